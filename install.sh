#!/usr/bin/env bash
# Installs luaenv (and luaenv-shim, the small binary every shim runs) from this checkout and
# puts its shims on PATH.
#   ./install.sh                    build (cargo build --release) and install into ~/.local/bin
#   ./install.sh --no-modify-path   do not touch any shell start-up file
#   ./install.sh --binary PATH      install an already built luaenv binary instead of building
#                                   (its luaenv-shim is taken from beside it, when there is one)
#   ./install.sh --bin-dir DIR      install into DIR instead of ~/.local/bin
# Running it twice changes nothing the second time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin_dir="${HOME}/.local/bin"
binary=""
modify_path=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-modify-path) modify_path=0 ;;
    --binary) binary="$2"; shift ;;
    --bin-dir) bin_dir="$2"; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$binary" ]; then
  echo "building luaenv (cargo build --release; a few minutes the first time)..."
  (cd "$here" && cargo build --release)
  binary="$here/target/release/luaenv"
fi
mkdir -p "$bin_dir"
place() { # built file, installed path
  local from="$1" to="$2"
  if [ -f "$to" ] && cmp -s "$from" "$to"; then
    echo "$(basename "$to") is already installed at $to"
  else
    # Through a temporary name and a rename: a running program is never left with half a file.
    cp "$from" "$to.tmp.$$"
    chmod 755 "$to.tmp.$$"
    mv -f "$to.tmp.$$" "$to"
    echo "installed $(basename "$to") at $to"
  fi
}
target="$bin_dir/luaenv"
place "$binary" "$target"
shim_binary="$(dirname "$binary")/luaenv-shim"
if [ -f "$shim_binary" ]; then
  place "$shim_binary" "$bin_dir/luaenv-shim"
fi
# Copies luaenv-shim into the root (libexec/luaenv-shim, by copy and rename) and links every
# shim to that copy, so no shim depends on where luaenv itself is installed.
"$target" rehash

[ "$modify_path" = 1 ] || { echo "left shell start-up files alone (--no-modify-path)"; exit 0; }

marker="# added by luaenv install.sh"
quoted=$(printf "'%s'" "$(printf '%s' "$target" | sed "s/'/'\\\\''/g")")
add_line() { # file, line
  local file="$1" line="$2"
  mkdir -p "$(dirname "$file")"
  if [ -f "$file" ] && grep -qF "$marker" "$file"; then
    echo "$file already activates luaenv"
  else
    printf '%s %s\n' "$line" "$marker" >> "$file"
    echo "added luaenv to $file"
  fi
}
add_line "$HOME/.bashrc" "eval \"\$($quoted activate bash)\""
if command -v zsh >/dev/null 2>&1 || [ -f "$HOME/.zshrc" ]; then
  add_line "${ZDOTDIR:-$HOME}/.zshrc" "eval \"\$($quoted activate zsh)\""
fi
if command -v fish >/dev/null 2>&1; then
  add_line "${XDG_CONFIG_HOME:-$HOME/.config}/fish/conf.d/luaenv.fish" "$quoted activate fish | source"
fi
echo "open a new shell (or source your start-up file) to use lua, luac and luarocks through luaenv"
