# luaenv activation for PowerShell: puts the shims first on PATH, once however often this runs.
$__luaenvShims = @SHIMS@
$__luaenvBin = @BIN_DIR@
$__luaenvSep = [IO.Path]::PathSeparator
$__luaenvRest = @($env:PATH -split $__luaenvSep | Where-Object { $_ -and $_ -ne $__luaenvShims })
if ($__luaenvRest -notcontains $__luaenvBin) { $__luaenvRest += $__luaenvBin }
$env:PATH = (@($__luaenvShims) + $__luaenvRest) -join $__luaenvSep
& @EXE@ completions powershell | Out-String | Invoke-Expression
Remove-Variable __luaenvShims, __luaenvBin, __luaenvSep, __luaenvRest
$env:LUAENV_ROOT = @ROOT@
