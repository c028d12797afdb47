#!/bin/sh
# Written by luaenv: curl with the credentials luaenv keeps for the server of the URL (the last argument).
@PICK_ENTRY@
if [ -z "$netrc" ]; then exec curl "$@"; fi
curl --netrc-file "$netrc" "$@"
