#!/bin/sh
# Written by luaenv: curl with the credentials luaenv keeps for the server of the URL.
@PICK_ENTRY@
if [ -z "$netrc" ]; then exec curl "$@"; fi
# One hop: no -L (see above); where it points is written after a marker on stderr.
for arg; do shift; case $arg in -L|--location) ;; *) set -- "$@" "$arg" ;; esac; done
status=0
curl --netrc-file "$netrc" -w '%{stderr}luaenv-location:%{redirect_url}\n' "$@" 2>"$dir/log" || status=$?
grep -v '^luaenv-location:' "$dir/log" >&2
location=$(sed -n 's/^luaenv-location://p' "$dir/log" | tail -n 1)
if [ "$status" -ne 0 ] || [ -z "$location" ]; then exit "$status"; fi
if [ "$hops" -ge 10 ]; then echo "curl (luaenv): more than 10 redirects from $url" >&2; exit 47; fi
next=$(redirect_target "$location")
for arg; do shift; if [ "$arg" = "$url" ]; then set -- "$@" "$next"; else set -- "$@" "$arg"; fi; done
rm -rf "$dir"
LUAENV_CREDENTIAL_HOPS=$((hops + 1)) exec "$0" "$@"
