# luaenv activation for fish: puts the shims first on PATH, once however often this runs.
set -l __luaenv_shims @SHIMS@
set -l __luaenv_bin @BIN_DIR@
while set -l i (contains -i -- $__luaenv_shims $PATH)
    set -e PATH[$i]
end
set -gx PATH $__luaenv_shims $PATH
contains -- $__luaenv_bin $PATH; or set -gx PATH $PATH $__luaenv_bin
if status is-interactive
    @EXE@ completions fish | source
end
set -gx LUAENV_ROOT @ROOT@
