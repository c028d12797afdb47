#!/usr/bin/env bash
# Benchmark (run by hand): cold `luaenv install openresty-2.1-20251030` from the download
# cache vs LuaJIT's own `make -j2` of the same tarball. Prints medians and the ratio.
# (make builds every object twice, static and -fPIC; luaenv builds one -fPIC set.)
#   benches/luajit.sh [runs]      (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-3}
fixtures=${LUAENV_TEST_FIXTURES:-../shared/fixtures}
tarball="$fixtures/mirror/luajit2-2.1-20251030.tar.gz"
[ -f "$tarball" ] || { echo "benches/luajit.sh: $tarball not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
build_and_scratch
export LUAENV_ROOT=$work/root LUAENV_CACHE_DIR=$work/cache


"$bin" install openresty-2.1-20251030 --no-rocks --mirror "$fixtures/mirror" >/dev/null 2>&1
luaenv_cold=() make_cold=()
for i in $(seq "$runs"); do
  "$bin" uninstall openresty-2.1-20251030 >/dev/null 2>&1; rm -rf "$LUAENV_CACHE_DIR/builds"
  luaenv_cold+=("$(timeit "$bin" install openresty-2.1-20251030 --no-rocks --mirror "$fixtures/mirror")")
  rm -rf "$work/mk" && mkdir "$work/mk" && tar xzf "$tarball" -C "$work/mk"
  make_cold+=("$(timeit make -C "$work/mk/luajit2-2.1-20251030" -j2)")
done
l=$(printf '%s\n' "${luaenv_cold[@]}" | median)
m=$(printf '%s\n' "${make_cold[@]}" | median)
printf 'cold LuaJIT build (median of %s): luaenv %.3f s, make -j2 %.3f s, ratio %.2f\n' "$runs" "$l" "$m" "$(echo "$l / $m" | bc -l)"
