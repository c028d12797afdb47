#!/bin/sh
# Written by luaenv: wget with the credentials luaenv keeps for the server of the URL.
# Keep the user's own wgetrc, which wget looks for under HOME.
if [ -z "$WGETRC" ] && [ -f "$HOME/.wgetrc" ]; then WGETRC="$HOME/.wgetrc"; export WGETRC; fi
@PICK_ENTRY@
if [ -z "$netrc" ]; then exec wget "$@"; fi
# One hop (see above): the server's answer is read for its Location, so not --quiet.
quiet=
for arg; do shift; case $arg in -q|--quiet) quiet=1 ;; *) set -- "$@" "$arg" ;; esac; done
# wget reads only $HOME/.netrc, and sends its credentials only when the server asks.
status=0
HOME="$dir" wget --max-redirect=0 --server-response "$@" 2>"$dir/log" || status=$?
location=$(sed -n 's/^  *[Ll]ocation: *//p' "$dir/log" | tail -n 1 | tr -d '\r')
if [ "$status" -eq 0 ] || [ -z "$location" ]; then
    if [ -z "$quiet" ]; then cat "$dir/log" >&2; fi
    exit "$status"
fi
if [ "$hops" -ge 10 ]; then echo "wget (luaenv): more than 10 redirects from $url" >&2; exit 8; fi
next=$(redirect_target "$location")
# --timestamping names the file after the URL: keep the name LuaRocks asked for.
name=${url%%[?#]*}; name=${name##*/}
for arg; do
    shift
    if [ "$arg" = "$url" ]; then set -- "$@" "$next"
    elif [ "$arg" = "--timestamping" ] || [ "$arg" = "-N" ]; then set -- "$@" --output-document "$name"
    else set -- "$@" "$arg"; fi
done
if [ -n "$quiet" ]; then set -- --quiet "$@"; fi
rm -rf "$dir"
LUAENV_CREDENTIAL_HOPS=$((hops + 1)) exec "$0" "$@"
