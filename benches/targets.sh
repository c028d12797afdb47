#!/usr/bin/env bash
# Benchmark (run by hand): cold `luaenv install 5.4.7` from the download cache for this machine,
# for Windows (`--target x86_64-pc-windows-gnu`, smoke-tested under wine) and fully static musl
# (`--static --target x86_64-unknown-linux-musl`). Prints medians and each target's ratio to
# the native build (the goal: no more than 1.0).
#   benches/targets.sh [runs]      (default 5; needs gcc-mingw-w64-x86-64, wine64, musl-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-5}
fixtures=${LUAENV_TEST_FIXTURES:-../shared/fixtures}
[ -f "$fixtures/mirror/lua-5.4.7.tar.gz" ] || { echo "benches/targets.sh: $fixtures/mirror/lua-5.4.7.tar.gz not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
for tool in x86_64-w64-mingw32-gcc wine musl-gcc; do
  command -v "$tool" >/dev/null || { echo "benches/targets.sh: $tool not found (apt-get install gcc-mingw-w64-x86-64 wine64 musl-tools)" >&2; exit 2; }
done
build_and_scratch
export LUAENV_ROOT=$work/root LUAENV_CACHE_DIR=$work/cache


declare -A flags=(
  [native]=""
  [windows]="--target x86_64-pc-windows-gnu"
  [windows-no-wine]="--target x86_64-pc-windows-gnu"
  [musl-static]="--static --target x86_64-unknown-linux-musl"
)
declare -A names=([native]=5.4.7 [windows]=5.4.7-x86_64-pc-windows-gnu [windows-no-wine]=5.4.7-x86_64-pc-windows-gnu [musl-static]=5.4.7-x86_64-unknown-linux-musl)
# The Windows build alone, without the smoke test under wine: a PATH with the mingw tools only.
mingw=$work/mingw-only
mkdir -p "$mingw"
for tool in x86_64-w64-mingw32-gcc x86_64-w64-mingw32-ar x86_64-w64-mingw32-ranlib x86_64-w64-mingw32-gcc-ar; do
  ln -s "$(command -v $tool)" "$mingw/$tool"
done
run_install() {
  if [ "$1" = windows-no-wine ]; then
    # shellcheck disable=SC2086
    PATH=$mingw "$bin" install 5.4.7 --no-rocks ${flags[$1]} --mirror "$fixtures/mirror"
  else
    # shellcheck disable=SC2086
    "$bin" install 5.4.7 --no-rocks ${flags[$1]} --mirror "$fixtures/mirror"
  fi
}
# Prime the download cache and wine's prefix (its first start takes several seconds, once).
kinds="native windows windows-no-wine musl-static"
for kind in $kinds; do
  run_install "$kind" >/dev/null 2>&1
  "$bin" uninstall "${names[$kind]}" >/dev/null 2>&1
done
declare -A times
for i in $(seq "$runs"); do
  # Each round starts with another kind, so none always follows the same one.
  read -ra order <<<"$kinds"
  start=$(( (i - 1) % ${#order[@]} ))
  for kind in "${order[@]:start}" "${order[@]:0:start}"; do
    rm -rf "$LUAENV_CACHE_DIR/builds"
    times[$kind]+="$(timeit run_install "$kind") "
    "$bin" uninstall "${names[$kind]}" >/dev/null 2>&1
    # wine's server outlives the smoke test by a few seconds (and saves its registry as it
    # ends): that happens after luaenv exits, but is not let run into the next measurement.
    WINEPREFIX=$LUAENV_CACHE_DIR/wine wineserver -w 2>/dev/null || true
  done
done
native=$(printf '%s\n' ${times[native]} | median)
printf 'cold install of 5.4.7 (median of %s): native %.3f s\n' "$runs" "$native"
for kind in windows windows-no-wine musl-static; do
  t=$(printf '%s\n' ${times[$kind]} | median)
  printf '  %-16s %.3f s, ratio to native %.2f\n' "$kind" "$t" "$(echo "$t / $native" | bc -l)"
done
