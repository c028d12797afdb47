complete --keep-order --exclusive --command luaenv --arguments "(LUAENV_COMPLETE=fish luaenv -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
