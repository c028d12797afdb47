# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_luaenv_global_optspecs
    string join \n h/help V/version
end

function __fish_luaenv_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_luaenv_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_luaenv_using_subcommand
    set -l cmd (__fish_luaenv_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c luaenv -n "__fish_luaenv_needs_command" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_needs_command" -s V -l version -d 'Print version'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "install" -d 'Download, verify, build and install Lua versions; prints each prefix'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "uninstall" -d 'Remove one installed version'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "versions" -d 'List installed versions, the selected one marked'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "ls" -d 'List installed versions, the selected one marked'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "current" -d 'Print the selected version and where that choice came from'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "global" -d 'Read or write the global default version'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "local" -d 'Read or write ./.lua-version'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "which" -d 'Print the real path behind a shim'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "prefix" -d 'Print the prefix of a version (default: the selected one)'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "exec" -d 'Run a command with the selected version'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "rehash" -d 'Make shims for every executable in every prefix'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "activate" -d 'Print shell code that puts the shims first on PATH'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "rocks" -d 'Install LuaRocks and manage its rocks servers'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "mirror" -d 'Set, unset or show the persistent source mirror'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "init" -d 'Make a folder a project sandbox: pinned Lua, its own rocks tree, a lock file'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "sync" -d 'In a project: install what luaenv.lock pins and rebuild the sandbox'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "add" -d 'In a project: add a rock to the rockspec\'s dependencies, then sync'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "remove" -d 'In a project: remove a rock from the rockspec\'s dependencies, then sync'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "bundle" -d 'In a project: write an offline kit (every source and rock the lock names, a rocks manifest, SHA256SUMS)'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "doctor" -d 'Check compiler, PATH order, shims, prefixes, config; say how to fix each finding'
complete -c luaenv -n "__fish_luaenv_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l mirror -d 'A mirror: a folder, file:// URL or HTTP(S) URL holding the source tarballs (default: $LUAENV_MIRROR, then `luaenv mirror set`)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l from -d 'Build from this tarball, source folder or URL instead' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l sha256 -d 'The SHA-256 the source must have' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l rocks -d 'The LuaRocks version to install with it' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l rocks-from -d 'Install LuaRocks from this tarball (its version is read from it; --rocks, if given, must match)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l target -d 'Cross-compile for this target triple' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l compat -d 'Compatibility defines' -r -f -a "none\t''
default\t''
all\t''"
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -s j -l jobs -d 'Parallel compile jobs (default: all cores)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l list -d 'List the versions luaenv knows, newest first'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l json -d 'Print JSON instead of text'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l no-rocks -d 'Do not install LuaRocks'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l static -d 'Link the programs fully statically'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l readline -d 'Build with readline line editing (needs its headers)'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l force -d 'Reinstall even when already installed'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -l offline -d 'Contact nothing but the mirror (and read local files and the caches); also LUAENV_OFFLINE=1'
complete -c luaenv -n "__fish_luaenv_using_subcommand install" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand uninstall" -l force -d 'Remove it even when the current project pins it or it is the global default (which is then cleared)'
complete -c luaenv -n "__fish_luaenv_using_subcommand uninstall" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand versions" -l json -d 'Print JSON instead of text'
complete -c luaenv -n "__fish_luaenv_using_subcommand versions" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand ls" -l json -d 'Print JSON instead of text'
complete -c luaenv -n "__fish_luaenv_using_subcommand ls" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand current" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand global" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand local" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand which" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand prefix" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand exec" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rehash" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand activate" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand completions" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and not __fish_seen_subcommand_from install add-server remove-server servers help" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and not __fish_seen_subcommand_from install add-server remove-server servers help" -f -a "install" -d 'Install LuaRocks into the selected prefix'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and not __fish_seen_subcommand_from install add-server remove-server servers help" -f -a "add-server" -d 'Add a rocks server or private mirror to the config LuaRocks reads'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and not __fish_seen_subcommand_from install add-server remove-server servers help" -f -a "remove-server" -d 'Remove a rocks server by name or URL'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and not __fish_seen_subcommand_from install add-server remove-server servers help" -f -a "servers" -d 'List the rocks servers in the order LuaRocks uses them'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and not __fish_seen_subcommand_from install add-server remove-server servers help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from install" -l from -d 'A LuaRocks source tarball to install instead of downloading' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from add-server" -l name -d 'A short name for it (default: its host)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from add-server" -l user -d 'The user name for a server that demands Basic auth (with --password-stdin)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from add-server" -l first -d 'Put it before every other server'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from add-server" -l password-stdin -d 'Read the password from the first line of standard input'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from add-server" -l project -d 'The project\'s config instead of the version\'s'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from add-server" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from remove-server" -l project
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from remove-server" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from servers" -l json
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from servers" -l project -d 'The project\'s servers (the default inside a project that has its own)'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from servers" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install LuaRocks into the selected prefix'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from help" -f -a "add-server" -d 'Add a rocks server or private mirror to the config LuaRocks reads'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from help" -f -a "remove-server" -d 'Remove a rocks server by name or URL'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from help" -f -a "servers" -d 'List the rocks servers in the order LuaRocks uses them'
complete -c luaenv -n "__fish_luaenv_using_subcommand rocks; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and not __fish_seen_subcommand_from set unset show help" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and not __fish_seen_subcommand_from set unset show help" -f -a "set" -d 'Fetch Lua and LuaRocks tarballs from this mirror from now on'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and not __fish_seen_subcommand_from set unset show help" -f -a "unset" -d 'Go back to the upstream sources'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and not __fish_seen_subcommand_from set unset show help" -f -a "show" -d 'Print the mirror in use, if any'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and not __fish_seen_subcommand_from set unset show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "set" -d 'Fetch Lua and LuaRocks tarballs from this mirror from now on'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Go back to the upstream sources'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the mirror in use, if any'
complete -c luaenv -n "__fish_luaenv_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c luaenv -n "__fish_luaenv_using_subcommand init" -l lua -d 'The Lua to pin (installed first if needed); default: the one selected there' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand init" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand sync" -l upgrade -d 'Resolve the rockspec\'s rocks again: all of them, or only ROCK' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand sync" -l mirror -d 'The mirror for every file: Lua, LuaRocks, and rocks (looked up there by file name first)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand sync" -l locked -d 'Fail, changing nothing, when luaenv.lock does not match the rockspec (for CI)'
complete -c luaenv -n "__fish_luaenv_using_subcommand sync" -l offline -d 'Contact nothing but the mirror (e.g. a `luaenv bundle` kit), local files and the caches; also LUAENV_OFFLINE=1'
complete -c luaenv -n "__fish_luaenv_using_subcommand sync" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand add" -l mirror -d 'The mirror for every file the sync fetches' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand add" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand remove" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand bundle" -l mirror -d 'Where to get files the caches lack: a folder, file:// or http(s) URL (default: $LUAENV_MIRROR, then `luaenv mirror set`)' -r
complete -c luaenv -n "__fish_luaenv_using_subcommand bundle" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "install" -d 'Download, verify, build and install Lua versions; prints each prefix'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "uninstall" -d 'Remove one installed version'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "versions" -d 'List installed versions, the selected one marked'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "current" -d 'Print the selected version and where that choice came from'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "global" -d 'Read or write the global default version'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "local" -d 'Read or write ./.lua-version'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "which" -d 'Print the real path behind a shim'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "prefix" -d 'Print the prefix of a version (default: the selected one)'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "exec" -d 'Run a command with the selected version'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "rehash" -d 'Make shims for every executable in every prefix'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "activate" -d 'Print shell code that puts the shims first on PATH'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "rocks" -d 'Install LuaRocks and manage its rocks servers'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "mirror" -d 'Set, unset or show the persistent source mirror'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "init" -d 'Make a folder a project sandbox: pinned Lua, its own rocks tree, a lock file'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "sync" -d 'In a project: install what luaenv.lock pins and rebuild the sandbox'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "add" -d 'In a project: add a rock to the rockspec\'s dependencies, then sync'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "remove" -d 'In a project: remove a rock from the rockspec\'s dependencies, then sync'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "bundle" -d 'In a project: write an offline kit (every source and rock the lock names, a rocks manifest, SHA256SUMS)'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "doctor" -d 'Check compiler, PATH order, shims, prefixes, config; say how to fix each finding'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and not __fish_seen_subcommand_from install uninstall versions current global local which prefix exec rehash activate completions rocks mirror init sync add remove bundle doctor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from rocks" -f -a "install" -d 'Install LuaRocks into the selected prefix'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from rocks" -f -a "add-server" -d 'Add a rocks server or private mirror to the config LuaRocks reads'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from rocks" -f -a "remove-server" -d 'Remove a rocks server by name or URL'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from rocks" -f -a "servers" -d 'List the rocks servers in the order LuaRocks uses them'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from mirror" -f -a "set" -d 'Fetch Lua and LuaRocks tarballs from this mirror from now on'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from mirror" -f -a "unset" -d 'Go back to the upstream sources'
complete -c luaenv -n "__fish_luaenv_using_subcommand help; and __fish_seen_subcommand_from mirror" -f -a "show" -d 'Print the mirror in use, if any'
