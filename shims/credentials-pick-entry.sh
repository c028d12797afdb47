creds=@NETRC@
url=; for arg in "$@"; do url=$arg; done
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
    if [ -s "$dir/.netrc" ]; then netrc=$dir/.netrc; fi
fi
