# luaenv project sandbox: dot-source this file; `deactivate` leaves it.
$global:_LUAENV_OLD = @{ PATH = $env:PATH }
$global:_LUAENV_OLD['@ENV.NAME@'] = $env:@ENV.NAME@
$global:_LUAENV_OLD['LUAENV_PROJECT'] = $env:LUAENV_PROJECT
$env:PATH = @BIN@ + [IO.Path]::PathSeparator + @TREE_BIN@ + [IO.Path]::PathSeparator + $env:PATH
$env:@ENV.NAME@ = @ENV.VALUE@
$env:LUAENV_PROJECT = @PROJECT@
function global:deactivate {
    foreach ($k in $global:_LUAENV_OLD.Keys) { Set-Item -Path "env:$k" -Value $global:_LUAENV_OLD[$k] }
    Remove-Variable -Scope global _LUAENV_OLD; Remove-Item function:deactivate
}
