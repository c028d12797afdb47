#!/usr/bin/env bash
# Benchmark (run by hand): a fresh machine installing from a warm OCI registry on loopback
# against compiling from source, for 5.4.7 + LuaRocks 3.8.0 and for OpenResty's LuaJIT.
# The registry is a real one (docker-registry with TLS and htpasswd, as in tests/it/registry.rs);
# every timed run uses a fresh root and cache. Prints medians and ratios.
#   benches/fleet.sh [runs]      (default 5; needs docker-registry, htpasswd, openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-5}
fixtures=$(realpath "${LUAENV_TEST_FIXTURES:-../shared/fixtures}")
[ -f "$fixtures/mirror/lua-5.4.7.tar.gz" ] || { echo "benches/fleet.sh: fixtures not found (set LUAENV_TEST_FIXTURES)" >&2; exit 2; }
for tool in docker-registry htpasswd openssl; do
  command -v $tool >/dev/null || { echo "benches/fleet.sh: $tool not found (apt-get install docker-registry apache2-utils openssl)" >&2; exit 2; }
done
cargo build --release --quiet
bin=$PWD/target/release/luaenv
work=$(mktemp -d)
registry_pid=
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A registry with TLS (a CA made here) and htpasswd auth, storage in $work.
cd "$work"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null
htpasswd -Bbn bench s3cret >htpasswd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir storage docker
cat >config.yml <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: "127.0.0.1:$port", secret: bench, tls: {certificate: $work/server.crt, key: $work/server.key}}
auth: {htpasswd: {realm: bench, path: $work/htpasswd}}
EOF
docker-registry serve config.yml >registry.log 2>&1 &
registry_pid=$!
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$port" "$(printf bench:s3cret | base64)" >docker/config.json
cd - >/dev/null
export SSL_CERT_FILE=$work/ca.crt DOCKER_CONFIG=$work/docker
cache=oci://127.0.0.1:$port/luaenv/builds
rocks=(--rocks 3.8.0 --rocks-from "$fixtures/local/luarocks-3.8.0-dfsg.tar.gz")
mirror=(--mirror "$fixtures/mirror")

# timeit <root> <command...>: seconds for one run in a fresh root and cache.
timeit() {
  local dir=$1 t0 t1; shift
  rm -rf "$dir"; mkdir -p "$dir"
  t0=$(now)
  LUAENV_ROOT=$dir/root LUAENV_CACHE_DIR=$dir/cache "$@" >"$dir.log" 2>&1 || { echo "benches/fleet.sh: failed: $*" >&2; cat "$dir.log" >&2; exit 1; }
  t1=$(now)
  echo "$t1 - $t0" | bc
}

# The builder: compile both, push them signed (this warms the registry).
export LUAENV_ROOT=$work/builder/root LUAENV_CACHE_DIR=$work/builder/cache
"$bin" install 5.4.7 "${mirror[@]}" "${rocks[@]}" >/dev/null 2>&1
"$bin" install openresty-2.1-20251030 "${mirror[@]}" --no-rocks >/dev/null 2>&1
"$bin" cache keygen "$work/builders.key" 2>/dev/null
"$bin" cache push 5.4.7 openresty-2.1-20251030 --to "$cache" --sign "$work/builders.key" >/dev/null 2>&1
unset LUAENV_ROOT LUAENV_CACHE_DIR
export LUAENV_TRUSTED_KEYS=$work/builders.key.pub

report() { # name, pulled times, compiled times, target
  local p c; p=$(printf '%s\n' "${@:2:$runs}" | median); c=$(printf '%s\n' "${@:$((runs + 2)):$runs}" | median)
  printf '%-32s from the registry %.3f s, compiled %.3f s, ratio %.3f (target < 1 s and <= %s)\n' "$1" "$p" "$c" "$(echo "$p / $c" | bc -l)" "${*: -1}"
}
pull_lua=() compile_lua=() pull_jit=() compile_jit=()
for i in $(seq "$runs"); do
  pull_lua+=("$(timeit "$work/run" "$bin" install 5.4.7 "${mirror[@]}" "${rocks[@]}" --build-cache "$cache")")
  grep -Eq '"pulled_from": ?"' "$work/run/root/versions/5.4.7/luaenv-receipt.json" || { echo "benches/fleet.sh: 5.4.7 was not pulled from the registry:" >&2; cat "$work/run.log" >&2; exit 1; }
  compile_lua+=("$(timeit "$work/run" "$bin" install 5.4.7 "${mirror[@]}" "${rocks[@]}")")
  pull_jit+=("$(timeit "$work/run" "$bin" install openresty-2.1-20251030 "${mirror[@]}" --no-rocks --build-cache "$cache")")
  grep -Eq '"pulled_from": ?"' "$work/run/root/versions/openresty-2.1-20251030/luaenv-receipt.json" || { echo "benches/fleet.sh: LuaJIT was not pulled from the registry:" >&2; cat "$work/run.log" >&2; exit 1; }
  compile_jit+=("$(timeit "$work/run" "$bin" install openresty-2.1-20251030 "${mirror[@]}" --no-rocks)")
done
echo "median of $runs runs, each on a fresh root and cache; registry on loopback with TLS + auth:"
report "5.4.7 + LuaRocks 3.8.0" "${pull_lua[@]}" "${compile_lua[@]}" 0.25
report "openresty-2.1-20251030" "${pull_jit[@]}" "${compile_jit[@]}" 0.25
