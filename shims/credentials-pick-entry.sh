creds=@NETRC@
# The URL: the last argument that is one (LuaRocks puts curl's `--output <file>` after it).
url=; for arg in "$@"; do case $arg in http://*|https://*) url=$arg ;; esac; done
case $url in https://*) port=443 ;; http://*) port=80 ;; *) port= ;; esac
rest=${url#*://}; authority=${rest%%[/?#]*}; authority=${authority##*@}
case $authority in *\]) key=$authority:$port ;; *:*) key=$authority ;; *) key=$authority:$port ;; esac
netrc=
if [ -n "$port" ] && [ -f "$creds" ]; then
    dir=$(mktemp -d) || exit 1
    trap 'rm -rf "$dir"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    awk -v key="$key" -v host="${key%:*}" '$1 == "machine" && $2 == key { $2 = host; print }' "$creds" > "$dir/.netrc"
    # No entry for this server: the download runs as it is (exec, so no EXIT trap): the
    # folder goes now.
    if [ -s "$dir/.netrc" ]; then netrc=$dir/.netrc; else rm -rf "$dir"; fi
fi
# A netrc entry names a host, not a port, so wget and curl would answer a redirect to another
# port of that host with these credentials: with credentials, the wrappers follow redirects
# themselves, one hop at a time, each hop picking the credentials of its own server (if any).
hops=${LUAENV_CREDENTIAL_HOPS:-0}
# The absolute URL a `Location` value names, relative to $url.
redirect_target() {
    case $1 in
        http://*|https://*) printf '%s\n' "$1" ;;
        //*) printf '%s:%s\n' "${url%%://*}" "$1" ;;
        /*) printf '%s://%s%s\n' "${url%%://*}" "${rest%%[/?#]*}" "$1" ;;
        *) base=${url%%[?#]*}; printf '%s/%s\n' "${base%/*}" "$1" ;;
    esac
}
