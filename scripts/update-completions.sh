#!/usr/bin/env bash
# Regenerates completions/ from the CLI definition (a test fails when they are stale).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/luaenv
$bin completions bash > completions/luaenv.bash
$bin completions zsh > completions/_luaenv
$bin completions fish > completions/luaenv.fish
$bin completions powershell > completions/_luaenv.ps1
echo "completions/ updated"
