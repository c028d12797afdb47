# luaenv project sandbox: `. .luaenv/activate` (bash, zsh, sh); `deactivate` leaves it.
if [ -n "${_LUAENV_OLD_PATH+x}" ]; then deactivate; fi
_LUAENV_OLD_PATH="$PATH"
if [ -n "${@ENV.NAME@+x}" ]; then _LUAENV_OLD_@ENV.NAME@="$@ENV.NAME@"; fi
PATH=@BIN@:@TREE_BIN@:"$PATH"; export PATH
@ENV.NAME@=@ENV.VALUE@; export @ENV.NAME@
LUAENV_PROJECT=@PROJECT@; export LUAENV_PROJECT
deactivate() {
    PATH="$_LUAENV_OLD_PATH"; export PATH; unset _LUAENV_OLD_PATH LUAENV_PROJECT
    if [ -n "${_LUAENV_OLD_@ENV.NAME@+x}" ]; then @ENV.NAME@="$_LUAENV_OLD_@ENV.NAME@"; export @ENV.NAME@; unset _LUAENV_OLD_@ENV.NAME@; else unset @ENV.NAME@; fi
    unset -f deactivate
    hash -r 2>/dev/null || true
}
hash -r 2>/dev/null || true
