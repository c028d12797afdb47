
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'luaenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'luaenv'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'luaenv' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Download, verify, build and install Lua versions; prints each prefix')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove one installed version')
            [CompletionResult]::new('versions', 'versions', [CompletionResultType]::ParameterValue, 'List installed versions, the selected one marked')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List installed versions, the selected one marked')
            [CompletionResult]::new('current', 'current', [CompletionResultType]::ParameterValue, 'Print the selected version and where that choice came from')
            [CompletionResult]::new('global', 'global', [CompletionResultType]::ParameterValue, 'Read or write the global default version')
            [CompletionResult]::new('local', 'local', [CompletionResultType]::ParameterValue, 'Read or write ./.lua-version')
            [CompletionResult]::new('which', 'which', [CompletionResultType]::ParameterValue, 'Print the real path behind a shim')
            [CompletionResult]::new('prefix', 'prefix', [CompletionResultType]::ParameterValue, 'Print the prefix of a version (default: the selected one)')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with the selected version')
            [CompletionResult]::new('rehash', 'rehash', [CompletionResultType]::ParameterValue, 'Make shims for every executable in every prefix')
            [CompletionResult]::new('activate', 'activate', [CompletionResultType]::ParameterValue, 'Print shell code that puts the shims first on PATH')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('rocks', 'rocks', [CompletionResultType]::ParameterValue, 'Install LuaRocks and manage its rocks servers')
            [CompletionResult]::new('mirror', 'mirror', [CompletionResultType]::ParameterValue, 'Set, unset or show the persistent source mirror')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make a folder a project sandbox: pinned Lua, its own rocks tree, a lock file')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'In a project: install what luaenv.lock pins and rebuild the sandbox')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'In a project: add a rock to the rockspec''s dependencies, then sync')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'In a project: remove a rock from the rockspec''s dependencies, then sync')
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'In a project: write an offline kit (every source and rock the lock names, a rocks manifest, SHA256SUMS)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check compiler, PATH order, shims, prefixes, config; say how to fix each finding')
            [CompletionResult]::new('cache', 'cache', [CompletionResultType]::ParameterValue, 'Share builds: push to a build cache, the caches installs pull from, signing keys')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;install' {
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'A mirror: a folder, file:// URL or HTTP(S) URL holding the source tarballs (default: $LUAENV_MIRROR, then `luaenv mirror set`)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Build from this tarball, source folder or URL instead')
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'The SHA-256 the source must have')
            [CompletionResult]::new('--rocks', '--rocks', [CompletionResultType]::ParameterName, 'The LuaRocks version to install with it')
            [CompletionResult]::new('--rocks-from', '--rocks-from', [CompletionResultType]::ParameterName, 'Install LuaRocks from this tarball (its version is read from it; --rocks, if given, must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Cross-compile for this target triple')
            [CompletionResult]::new('--compat', '--compat', [CompletionResultType]::ParameterName, 'Compatibility defines')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Parallel compile jobs (default: all cores)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Parallel compile jobs (default: all cores)')
            [CompletionResult]::new('--build-cache', '--build-cache', [CompletionResultType]::ParameterName, 'Pull a signed build from this cache when it has one (repeatable; also $LUAENV_BUILD_CACHE, `luaenv cache add`)')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the versions luaenv knows, newest first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('--no-rocks', '--no-rocks', [CompletionResultType]::ParameterName, 'Do not install LuaRocks')
            [CompletionResult]::new('--static', '--static', [CompletionResultType]::ParameterName, 'Link the programs fully statically')
            [CompletionResult]::new('--readline', '--readline', [CompletionResultType]::ParameterName, 'Build with readline line editing (needs its headers)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Reinstall even when already installed')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Contact nothing but the mirror (and read local files and the caches); also LUAENV_OFFLINE=1')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;uninstall' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Remove it even when the current project pins it or it is the global default (which is then cleared)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;versions' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;ls' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;current' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;global' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;local' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;which' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;prefix' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;exec' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;rehash' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;activate' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;rocks' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install LuaRocks into the selected prefix')
            [CompletionResult]::new('add-server', 'add-server', [CompletionResultType]::ParameterValue, 'Add a rocks server or private mirror to the config LuaRocks reads')
            [CompletionResult]::new('remove-server', 'remove-server', [CompletionResultType]::ParameterValue, 'Remove a rocks server by name or URL')
            [CompletionResult]::new('servers', 'servers', [CompletionResultType]::ParameterValue, 'List the rocks servers in the order LuaRocks uses them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;rocks;install' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'A LuaRocks source tarball to install instead of downloading')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;rocks;add-server' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A short name for it (default: its host)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The user name for a server that demands Basic auth (with --password-stdin)')
            [CompletionResult]::new('--first', '--first', [CompletionResultType]::ParameterName, 'Put it before every other server')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of standard input')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'The project''s config instead of the version''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;rocks;remove-server' {
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'project')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;rocks;servers' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'The project''s servers (the default inside a project that has its own)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;rocks;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install LuaRocks into the selected prefix')
            [CompletionResult]::new('add-server', 'add-server', [CompletionResultType]::ParameterValue, 'Add a rocks server or private mirror to the config LuaRocks reads')
            [CompletionResult]::new('remove-server', 'remove-server', [CompletionResultType]::ParameterValue, 'Remove a rocks server by name or URL')
            [CompletionResult]::new('servers', 'servers', [CompletionResultType]::ParameterValue, 'List the rocks servers in the order LuaRocks uses them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;rocks;help;install' {
            break
        }
        'luaenv;rocks;help;add-server' {
            break
        }
        'luaenv;rocks;help;remove-server' {
            break
        }
        'luaenv;rocks;help;servers' {
            break
        }
        'luaenv;rocks;help;help' {
            break
        }
        'luaenv;mirror' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Fetch Lua and LuaRocks tarballs from this mirror from now on')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Go back to the upstream sources')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the mirror in use, if any')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;mirror;set' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;mirror;unset' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;mirror;show' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;mirror;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Fetch Lua and LuaRocks tarballs from this mirror from now on')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Go back to the upstream sources')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the mirror in use, if any')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;mirror;help;set' {
            break
        }
        'luaenv;mirror;help;unset' {
            break
        }
        'luaenv;mirror;help;show' {
            break
        }
        'luaenv;mirror;help;help' {
            break
        }
        'luaenv;init' {
            [CompletionResult]::new('--lua', '--lua', [CompletionResultType]::ParameterName, 'The Lua to pin (installed first if needed); default: the one selected there')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;sync' {
            [CompletionResult]::new('--upgrade', '--upgrade', [CompletionResultType]::ParameterName, 'Resolve the rockspec''s rocks again: all of them, or only ROCK')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'The mirror for every file: Lua, LuaRocks, and rocks (looked up there by file name first)')
            [CompletionResult]::new('--locked', '--locked', [CompletionResultType]::ParameterName, 'Fail, changing nothing, when luaenv.lock does not match the rockspec (for CI)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Contact nothing but the mirror (e.g. a `luaenv bundle` kit), local files and the caches; also LUAENV_OFFLINE=1')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;add' {
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'The mirror for every file the sync fetches')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;remove' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;bundle' {
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Where to get files the caches lack: a folder, file:// or http(s) URL (default: $LUAENV_MIRROR, then `luaenv mirror set`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;doctor' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make a signing key pair: <FILE> (secret, mode 0600) and <FILE>.pub')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust builds signed by this public key (a .pub file from `cache keygen` or minisign)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Publish installed versions to a build cache, signed')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Pull installs from this cache too (kept in the root)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Stop pulling installs from this cache')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Print the caches installs pull from, in order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;cache;keygen' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache;trust' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache;push' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The cache: a folder, a file:// URL, or oci://host[:port]/repository')
            [CompletionResult]::new('--sign', '--sign', [CompletionResultType]::ParameterName, 'The secret key to sign with (from `luaenv cache keygen`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache;add' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache;remove' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache;list' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'luaenv;cache;help' {
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make a signing key pair: <FILE> (secret, mode 0600) and <FILE>.pub')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust builds signed by this public key (a .pub file from `cache keygen` or minisign)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Publish installed versions to a build cache, signed')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Pull installs from this cache too (kept in the root)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Stop pulling installs from this cache')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Print the caches installs pull from, in order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;cache;help;keygen' {
            break
        }
        'luaenv;cache;help;trust' {
            break
        }
        'luaenv;cache;help;push' {
            break
        }
        'luaenv;cache;help;add' {
            break
        }
        'luaenv;cache;help;remove' {
            break
        }
        'luaenv;cache;help;list' {
            break
        }
        'luaenv;cache;help;help' {
            break
        }
        'luaenv;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Download, verify, build and install Lua versions; prints each prefix')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove one installed version')
            [CompletionResult]::new('versions', 'versions', [CompletionResultType]::ParameterValue, 'List installed versions, the selected one marked')
            [CompletionResult]::new('current', 'current', [CompletionResultType]::ParameterValue, 'Print the selected version and where that choice came from')
            [CompletionResult]::new('global', 'global', [CompletionResultType]::ParameterValue, 'Read or write the global default version')
            [CompletionResult]::new('local', 'local', [CompletionResultType]::ParameterValue, 'Read or write ./.lua-version')
            [CompletionResult]::new('which', 'which', [CompletionResultType]::ParameterValue, 'Print the real path behind a shim')
            [CompletionResult]::new('prefix', 'prefix', [CompletionResultType]::ParameterValue, 'Print the prefix of a version (default: the selected one)')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with the selected version')
            [CompletionResult]::new('rehash', 'rehash', [CompletionResultType]::ParameterValue, 'Make shims for every executable in every prefix')
            [CompletionResult]::new('activate', 'activate', [CompletionResultType]::ParameterValue, 'Print shell code that puts the shims first on PATH')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('rocks', 'rocks', [CompletionResultType]::ParameterValue, 'Install LuaRocks and manage its rocks servers')
            [CompletionResult]::new('mirror', 'mirror', [CompletionResultType]::ParameterValue, 'Set, unset or show the persistent source mirror')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make a folder a project sandbox: pinned Lua, its own rocks tree, a lock file')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'In a project: install what luaenv.lock pins and rebuild the sandbox')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'In a project: add a rock to the rockspec''s dependencies, then sync')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'In a project: remove a rock from the rockspec''s dependencies, then sync')
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'In a project: write an offline kit (every source and rock the lock names, a rocks manifest, SHA256SUMS)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check compiler, PATH order, shims, prefixes, config; say how to fix each finding')
            [CompletionResult]::new('cache', 'cache', [CompletionResultType]::ParameterValue, 'Share builds: push to a build cache, the caches installs pull from, signing keys')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'luaenv;help;install' {
            break
        }
        'luaenv;help;uninstall' {
            break
        }
        'luaenv;help;versions' {
            break
        }
        'luaenv;help;current' {
            break
        }
        'luaenv;help;global' {
            break
        }
        'luaenv;help;local' {
            break
        }
        'luaenv;help;which' {
            break
        }
        'luaenv;help;prefix' {
            break
        }
        'luaenv;help;exec' {
            break
        }
        'luaenv;help;rehash' {
            break
        }
        'luaenv;help;activate' {
            break
        }
        'luaenv;help;completions' {
            break
        }
        'luaenv;help;rocks' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install LuaRocks into the selected prefix')
            [CompletionResult]::new('add-server', 'add-server', [CompletionResultType]::ParameterValue, 'Add a rocks server or private mirror to the config LuaRocks reads')
            [CompletionResult]::new('remove-server', 'remove-server', [CompletionResultType]::ParameterValue, 'Remove a rocks server by name or URL')
            [CompletionResult]::new('servers', 'servers', [CompletionResultType]::ParameterValue, 'List the rocks servers in the order LuaRocks uses them')
            break
        }
        'luaenv;help;rocks;install' {
            break
        }
        'luaenv;help;rocks;add-server' {
            break
        }
        'luaenv;help;rocks;remove-server' {
            break
        }
        'luaenv;help;rocks;servers' {
            break
        }
        'luaenv;help;mirror' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Fetch Lua and LuaRocks tarballs from this mirror from now on')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Go back to the upstream sources')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the mirror in use, if any')
            break
        }
        'luaenv;help;mirror;set' {
            break
        }
        'luaenv;help;mirror;unset' {
            break
        }
        'luaenv;help;mirror;show' {
            break
        }
        'luaenv;help;init' {
            break
        }
        'luaenv;help;sync' {
            break
        }
        'luaenv;help;add' {
            break
        }
        'luaenv;help;remove' {
            break
        }
        'luaenv;help;bundle' {
            break
        }
        'luaenv;help;doctor' {
            break
        }
        'luaenv;help;cache' {
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make a signing key pair: <FILE> (secret, mode 0600) and <FILE>.pub')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust builds signed by this public key (a .pub file from `cache keygen` or minisign)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Publish installed versions to a build cache, signed')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Pull installs from this cache too (kept in the root)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Stop pulling installs from this cache')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Print the caches installs pull from, in order')
            break
        }
        'luaenv;help;cache;keygen' {
            break
        }
        'luaenv;help;cache;trust' {
            break
        }
        'luaenv;help;cache;push' {
            break
        }
        'luaenv;help;cache;add' {
            break
        }
        'luaenv;help;cache;remove' {
            break
        }
        'luaenv;help;cache;list' {
            break
        }
        'luaenv;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
