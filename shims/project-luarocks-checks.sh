# LuaRocks writes into lua_modules: only into one luaenv made with this root (its token has a
# mark there; a repository cannot know one), and never through a link that leads elsewhere.
tree=$LUAENV_HERE/lua_modules
if [ -e "$tree" ] || [ -L "$tree" ]; then
  token=
  if [ ! -L "$tree" ] && [ -f "$tree/.luaenv-tree" ] && [ ! -L "$tree/.luaenv-tree" ]; then
    token=$(head -c 64 "$tree/.luaenv-tree" | tr -d '\n')
  fi
  case $token in *[!0-9a-f]*) token= ;; esac
  if [ "${#token}" -ne 32 ] || [ ! -f @TREES@/"$token" ]; then
    echo "luarocks: $tree was not made by luaenv with this root: it may have come with the repository, and luaenv never lets LuaRocks write into what a repository brings; move it away and run \`luaenv sync\`, which makes a new one" >&2
    exit 2
  fi
  link=$(find "$tree" -type l ! -path "$tree/lockfile.lfs" -print 2>/dev/null | head -n 1)
  if [ -n "$link" ]; then
    echo "luarocks: $link is a symbolic link, and LuaRocks would write through it; remove it and run \`luaenv sync\`" >&2
    exit 2
  fi
fi
