#!/usr/bin/env bash
# Benchmark (run by hand): what one Tab costs, `luaenv global <Tab>` as bash asks it
# (LUAENV_COMPLETE=bash luaenv -- luaenv global ''), against `luaenv --version`, a run
# that parses nothing. Prints medians (ms) and the ratio.
#   benches/completion.sh [runs]      (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-200}
build_and_scratch
export LUAENV_ROOT=$work/root
mkdir -p "$LUAENV_ROOT/versions"/{5.1.5,5.3.6,5.4.7,5.5.1,luajit-2.1}

now() { date +%s%N; }
timeit() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "scale=3; ($(now) - $t0) / 1000000" | bc; }

tab=() plain=()
for i in $(seq "$runs"); do
  tab+=("$(timeit env LUAENV_COMPLETE=bash _CLAP_COMPLETE_INDEX=2 _CLAP_IFS=$'\n' "$bin" -- luaenv global '')")
  plain+=("$(timeit "$bin" --version)")
done
t=$(printf '%s\n' "${tab[@]}" | median); p=$(printf '%s\n' "${plain[@]}" | median)
echo "luaenv global <Tab>: median ${t} ms over $runs runs"
echo "luaenv --version:    median ${p} ms"
echo "ratio: $(echo "scale=2; $t / $p" | bc)"
