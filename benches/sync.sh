#!/usr/bin/env bash
# Benchmark (run by hand): `luaenv sync` of a project with Lua 5.4.7, LuaRocks 3.8.0 and two
# locked rocks (pure-Lua purehello, C chello, packed by the real LuaRocks):
#   - warm: everything in place, nothing to do (target < 50 ms);
#   - fresh: Lua uninstalled, lua_modules/ and .luaenv/ deleted, so sync reinstalls Lua +
#     LuaRocks from the build cache and both rocks from the download cache (target < 1 s).
# Prints medians.   benches/sync.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-5}
fixtures=$(realpath -m "${LUAENV_TEST_FIXTURES:-../shared/fixtures}")
[ -f "$fixtures/mirror/lua-5.4.7.tar.gz" ] || { echo "benches/sync.sh: fixtures not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
build_and_scratch
export LUAENV_ROOT=$work/root LUAENV_CACHE_DIR=$work/cache HOME=$work/home
unset LUAENV_MIRROR LUAENV_VERSION LUA_PATH LUA_CPATH LUA_INIT
mkdir -p "$HOME" "$work/mirror" "$work/rocks"
# The team's mirror: the Lua tarballs and the LuaRocks tarball the lock pins by file name.
ln -s "$fixtures"/mirror/* "$fixtures"/local/* "$work/mirror/"


"$bin" install 5.4.7 --mirror "$work/mirror" --rocks 3.8.0 --rocks-from "$fixtures/local/luarocks-3.8.0-dfsg.tar.gz" >/dev/null 2>&1
prefix=$LUAENV_ROOT/versions/5.4.7

# Two real rocks in a folder rocks server.
pack() { # name module-file source deps
  mkdir -p "$work/src/$1-1.0"; printf '%s' "$3" >"$work/src/$1-1.0/$2"
  tar czf "$work/rocks/$1-1.0.tar.gz" -C "$work/src" "$1-1.0"
  cat >"$work/rocks/$1-1.0-1.rockspec" <<SPEC
package = "$1"
version = "1.0-1"
source = { url = "file://$work/rocks/$1-1.0.tar.gz", dir = "$1-1.0" }
dependencies = { "lua >= 5.1"$4 }
build = { type = "builtin", modules = { $1 = "$2" } }
SPEC
  (cd "$work/rocks" && "$prefix/bin/luarocks" pack "$1-1.0-1.rockspec" >/dev/null)
}
pack purehello purehello.lua "return 'hello'" ""
pack chello chello.c '#include "lua.h"
int luaopen_chello(lua_State *L) { lua_pushinteger(L, 42); return 1; }' ', "purehello >= 1.0"'
"$prefix/bin/luarocks-admin" make-manifest "$work/rocks" >/dev/null
LUAENV_VERSION=5.4.7 "$bin" rocks add-server "file://$work/rocks" --name local --first >/dev/null 2>&1
LUAENV_VERSION=5.4.7 "$bin" rocks remove-server luarocks.org >/dev/null 2>&1

"$bin" init "$work/app" --lua 5.4.7 >/dev/null 2>&1
cd "$work/app"
"$bin" add purehello >/dev/null 2>&1
"$bin" add chello >/dev/null 2>&1
grep -q 'name = "chello"' luaenv.lock || { echo "benches/sync.sh: the rocks were not locked" >&2; exit 1; }

warm=() fresh=()
for i in $(seq "$runs"); do
  warm+=("$(timeit_checked "$bin" sync)")
done
for i in $(seq "$runs"); do
  "$bin" uninstall 5.4.7 --force >/dev/null 2>&1
  rm -rf lua_modules .luaenv
  fresh+=("$(timeit_checked "$bin" sync --mirror "$work/mirror")")
  got=$(.luaenv/bin/lua -e 'print((require("chello")), (require("purehello")))' 2>&1 || true)
  [ "$got" = "$(printf '42\thello')" ] || { echo "benches/sync.sh: the fresh sync does not load its rocks: $got" >&2; exit 1; }
done
w=$(printf '%s\n' "${warm[@]}" | median); f=$(printf '%s\n' "${fresh[@]}" | median)
printf 'warm no-op sync (median of %s):                          %.1f ms (target < 50 ms)\n' "$runs" "$(echo "$w * 1000" | bc -l)"
printf 'fresh sync, Lua + LuaRocks + 2 rocks from caches (median of %s): %.3f s (target < 1 s)\n' "$runs" "$f"
