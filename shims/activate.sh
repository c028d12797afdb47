# luaenv activation for @SHELL@: puts the shims first on PATH, once however often this runs.
__luaenv_shims=@SHIMS@
__luaenv_bin=@BIN_DIR@
__luaenv_path=":${PATH}:"
while [ "${__luaenv_path#*:"$__luaenv_shims":}" != "$__luaenv_path" ]; do
  __luaenv_path="${__luaenv_path%%:"$__luaenv_shims":*}:${__luaenv_path#*:"$__luaenv_shims":}"
done
__luaenv_path="${__luaenv_path#:}"
__luaenv_path="${__luaenv_path%:}"
PATH="${__luaenv_shims}${__luaenv_path:+:$__luaenv_path}"
case ":${PATH}:" in
  *":${__luaenv_bin}:"*) ;;
  *) PATH="${PATH}:${__luaenv_bin}" ;;
esac
export PATH
unset __luaenv_shims __luaenv_bin __luaenv_path
@COMPLETIONS@
export LUAENV_ROOT=@ROOT@
