#!/usr/bin/env bash
# Benchmark (run by hand): cold `luaenv install 5.4.7` from the download cache vs hererocks
# building the same tarball, and the cached reinstall of both. Prints medians and ratios.
#   benches/install.sh [runs]      (default 5 runs; needs `pip install hererocks`)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-5}
fixtures=${LUAENV_TEST_FIXTURES:-../shared/fixtures}
tarball="$fixtures/mirror/lua-5.4.7.tar.gz"
[ -f "$tarball" ] || { echo "benches/install.sh: $tarball not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
command -v hererocks >/dev/null || { echo "benches/install.sh: hererocks not found: pip install hererocks" >&2; exit 2; }
build_and_scratch
export LUAENV_ROOT=$work/root LUAENV_CACHE_DIR=$work/cache
tar xzf "$tarball" -C "$work"


# Prime the download cache once, so every timed luaenv run starts from the cached tarball.
"$bin" install 5.4.7 --no-rocks --mirror "$fixtures/mirror" >/dev/null 2>&1
luaenv_cold=() hererocks_cold=() luaenv_re=() hererocks_re=()
for i in $(seq "$runs"); do
  "$bin" uninstall 5.4.7 >/dev/null 2>&1; rm -rf "$LUAENV_CACHE_DIR/builds"
  luaenv_cold+=("$(timeit "$bin" install 5.4.7 --no-rocks --mirror "$fixtures/mirror")")
  rm -rf "$work/hr"
  hererocks_cold+=("$(timeit hererocks "$work/hr" -l "$work/lua-5.4.7/src" --no-readline)")
  # Cached reinstall: luaenv from its build cache, hererocks from its --builds cache.
  "$bin" uninstall 5.4.7 >/dev/null 2>&1
  luaenv_re+=("$(timeit "$bin" install 5.4.7 --no-rocks --mirror "$fixtures/mirror")")
  rm -rf "$work/hr"; hererocks "$work/hr" -l "$work/lua-5.4.7/src" --no-readline --builds "$work/hrb" >/dev/null 2>&1
  rm -rf "$work/hr"
  hererocks_re+=("$(timeit hererocks "$work/hr" -l "$work/lua-5.4.7/src" --no-readline --builds "$work/hrb")")
done
lc=$(printf '%s\n' "${luaenv_cold[@]}" | median); hc=$(printf '%s\n' "${hererocks_cold[@]}" | median)
lr=$(printf '%s\n' "${luaenv_re[@]}" | median); hr=$(printf '%s\n' "${hererocks_re[@]}" | median)
printf 'cold install 5.4.7 (median of %s): luaenv %.3f s, hererocks %.3f s, ratio %.2f (target <= 0.50)\n' "$runs" "$lc" "$hc" "$(echo "$lc / $hc" | bc -l)"
printf 'cached reinstall (median of %s):   luaenv %.3f s, hererocks %.3f s, ratio %.2f (target < 0.2 s)\n' "$runs" "$lr" "$hr" "$(echo "$lr / $hr" | bc -l)"
