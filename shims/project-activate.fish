# luaenv project sandbox: `source` this file; `deactivate` leaves it.
set -q _LUAENV_OLD_PATH; and deactivate
set -gx _LUAENV_OLD_PATH $PATH
set -q @ENV.NAME@; and set -gx _LUAENV_OLD_@ENV.NAME@ $@ENV.NAME@
set -gx PATH @BIN@ @TREE_BIN@ $PATH
set -gx @ENV.NAME@ @ENV.VALUE@
set -gx LUAENV_PROJECT @PROJECT@
function deactivate
    set -gx PATH $_LUAENV_OLD_PATH; set -e _LUAENV_OLD_PATH; set -e LUAENV_PROJECT
    if set -q _LUAENV_OLD_@ENV.NAME@; set -gx @ENV.NAME@ $_LUAENV_OLD_@ENV.NAME@; set -e _LUAENV_OLD_@ENV.NAME@; else; set -e @ENV.NAME@; end
    functions -e deactivate
end
