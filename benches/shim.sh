#!/usr/bin/env bash
# Benchmark (run by hand): `lua -e ''` through the shim vs the real binary, interleaved.
#   benches/shim.sh [runs]      (default 300 each; needs the fixtures)
# The shims are links to $LUAENV_ROOT/libexec/luaenv-shim, the small static binary
# (target/release/luaenv-shim) that `luaenv rehash` copies there.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
runs=${1:-300}
build_and_scratch
export LUAENV_ROOT=$work/root LUAENV_CACHE_DIR=$work/cache
"$bin" install 5.4.7 --no-rocks --mirror "${LUAENV_TEST_FIXTURES:-../shared/fixtures}/mirror" >/dev/null 2>&1
echo "the shims run: $(file -b "$LUAENV_ROOT/libexec/luaenv-shim" | cut -d, -f1-4) ($(stat -c %s "$LUAENV_ROOT/libexec/luaenv-shim") bytes)"
mkdir -p "$work/project/a/b/c" && echo 5.4.7 > "$work/project/.lua-version"
cd "$work/project/a/b/c"
measure() { # label [program standing in for the shim]
python3 - "${2:-$LUAENV_ROOT/shims/lua}" "$LUAENV_ROOT/versions/5.4.7/bin/lua" "$runs" "$1" <<'PY'
import os, statistics, sys, time
shim, real, runs, what = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def once(path):
    t = time.perf_counter_ns()
    pid = os.posix_spawn(path, [path, "-e", ""], dict(os.environ))
    os.waitpid(pid, 0)
    return (time.perf_counter_ns() - t) / 1e6
s, r = [], []
for _ in range(runs):  # interleaved, so drift hits both alike
    s.append(once(shim)); r.append(once(real))
ms, mr = statistics.median(s), statistics.median(r)
print(f"{what}: lua -e '' median of {runs}: shim {ms:.3f} ms, direct {mr:.3f} ms, overhead {ms - mr:.3f} ms, ratio {ms / mr:.2f} (target: overhead <= 0.3 ms)")
PY
}
measure "pinned folder"
# The same inside a project sandbox (`luaenv init`): the shim also sets LUA_PATH & co.
"$bin" init "$work/project" >/dev/null 2>&1
measure "project sandbox"
# For comparison, the floor for any program linked with glibc: a static C program that only
# execs lua. Its start-up (CPU feature probing with CPUID, which traps to the hypervisor in a
# VM) costs more than the shim's budget, hence the musl-linked shim (build.rs).
if printf '#include <unistd.h>\nint main(int c, char **v) { (void)c; v[0] = REAL; execv(REAL, v); return 127; }\n' \
  | cc -O2 -static -no-pie -DREAL="\"$LUAENV_ROOT/versions/5.4.7/bin/lua\"" -x c - -o "$work/trampoline" 2>/dev/null; then
  measure "floor (static C exec trampoline)" "$work/trampoline"
fi
