#!/usr/bin/env bash
# Benchmark (run by hand): the offline kit of a project with Lua 5.4.7 and LuaRocks 3.8.0.
#   - bundle: `luaenv bundle <kit>` with everything in the caches;
#   - warm offline sync: `luaenv sync --offline --mirror <kit>`, nothing to do;
#   - fresh offline sync: Lua uninstalled, .luaenv/ deleted, the download cache emptied:
#     Lua + LuaRocks from the kit, the build from the build cache.
# Prints medians.   benches/offline.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-5}
fixtures=$(realpath -m "${LUAENV_TEST_FIXTURES:-../shared/fixtures}")
[ -f "$fixtures/mirror/lua-5.4.7.tar.gz" ] || { echo "benches/offline.sh: fixtures not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
build_and_scratch
export LUAENV_ROOT=$work/root LUAENV_CACHE_DIR=$work/cache HOME=$work/home
unset LUAENV_MIRROR LUAENV_VERSION LUA_PATH LUA_CPATH LUA_INIT LUAENV_OFFLINE
mkdir -p "$HOME"


"$bin" install 5.4.7 --mirror "$fixtures/mirror" --rocks 3.8.0 --rocks-from "$fixtures/local/luarocks-3.8.0-dfsg.tar.gz" >/dev/null 2>&1
mkdir -p "$work/app/src" && cd "$work/app"
"$bin" init . --lua 5.4.7 >/dev/null 2>&1
echo "return 'src'" > src/fromsrc.lua

bundle=(); warm=(); fresh=()
for _ in $(seq "$runs"); do
    bundle+=("$(timeit_checked "$bin" bundle "$work/kit" --mirror "$fixtures/mirror")")
done
for _ in $(seq "$runs"); do
    warm+=("$(timeit_checked "$bin" sync --offline --mirror "$work/kit")")
done
for _ in $(seq "$runs"); do
    rm -rf "$LUAENV_ROOT/versions/5.4.7" "$work/app/.luaenv" "$LUAENV_CACHE_DIR/downloads"
    fresh+=("$(timeit_checked "$bin" sync --offline --mirror "$work/kit")")
done
said=$("$LUAENV_ROOT/shims/lua" -e "print((require('fromsrc')))" 2>&1) || true; [ "$said" = src ] || { echo "benches/offline.sh: the synced project does not load src/: $said" >&2; exit 1; }
printf 'bundle (warm caches):           median %.3f s over %s runs\n' "$(printf '%s\n' "${bundle[@]}" | median)" "$runs"
printf 'sync --offline, nothing to do:  median %.3f s over %s runs\n' "$(printf '%s\n' "${warm[@]}" | median)" "$runs"
printf 'sync --offline, fresh from kit: median %.3f s over %s runs (Lua + LuaRocks from the kit, build from the build cache)\n' "$(printf '%s\n' "${fresh[@]}" | median)" "$runs"
