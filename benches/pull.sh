#!/usr/bin/env bash
# Benchmark (run by hand): install from a warm FOLDER build cache on a fresh root (pull:
# download, digests, signature, unpack, relocate, smoke test) against a cold compile on the
# same machine, for 5.4.7 + LuaRocks and for OpenResty's LuaJIT. Prints medians and ratios.
#   benches/pull.sh [runs]      (default 3; benches/fleet.sh does the same against a registry)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-3}
fixtures=${LUAENV_TEST_FIXTURES:-../shared/fixtures}
mirror="$fixtures/mirror" rocks="$fixtures/local/luarocks-3.8.0-dfsg.tar.gz"
[ -f "$mirror/lua-5.4.7.tar.gz" ] || { echo "benches/pull.sh: fixtures not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
build_and_scratch

in_root() { local root=$1; shift; LUAENV_ROOT=$root LUAENV_CACHE_DIR=$root.cache "$bin" "$@"; }

"$bin" cache keygen "$work/key" >/dev/null 2>&1
for name in 5.4.7 openresty-2.1-20251030; do
  compile=() pull=()
  for i in $(seq "$runs"); do
    # Cold: a fresh root and cache (the source is read from the local mirror folder).
    compile+=("$(timeit in_root "$work/builder-$name-$i" install "$name" --mirror "$mirror" --rocks-from "$rocks")")
    [ "$i" = 1 ] && in_root "$work/builder-$name-1" cache push "$name" --to "$work/cache" --sign "$work/key" >/dev/null 2>&1
    LUAENV_ROOT="$work/puller-$name-$i" "$bin" cache trust "$work/key.pub" >/dev/null 2>&1
    pull+=("$(timeit in_root "$work/puller-$name-$i" install "$name" --mirror "$mirror" --rocks-from "$rocks" --build-cache "$work/cache")")
    grep -q pulled_from "$work/puller-$name-$i/versions/$name/luaenv-receipt.json" || { echo "benches/pull.sh: $name was not pulled" >&2; exit 1; }
  done
  c=$(printf '%s\n' "${compile[@]}" | median); p=$(printf '%s\n' "${pull[@]}" | median)
  printf '%-24s (median of %s): pull %.3f s, cold compile %.3f s, ratio %.2f (target < 1 s and <= 0.25)\n' "$name + LuaRocks" "$runs" "$p" "$c" "$(echo "$p / $c" | bc -l)"
done
