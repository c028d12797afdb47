#!/bin/sh
# Written by luaenv: wget with the credentials luaenv keeps for the server of the URL (the last argument).
# Keep the user's own wgetrc, which wget looks for under HOME.
if [ -z "$WGETRC" ] && [ -f "$HOME/.wgetrc" ]; then WGETRC="$HOME/.wgetrc"; export WGETRC; fi
@PICK_ENTRY@
if [ -z "$netrc" ]; then exec wget "$@"; fi
# wget reads only $HOME/.netrc, and sends its credentials only when the server asks.
HOME="$dir" wget "$@"
