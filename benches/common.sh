# Timing helpers the benchmarks source (after `cd` to the repository): seconds, medians.
now() { date +%s.%N; }
# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# The seconds a command takes, its output dropped.
timeit() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $t0" | bc; }
# The same for a command that must succeed: a failure stops the benchmark with its output.
timeit_checked() { local t0; t0=$(now); "$@" >/dev/null 2>&1 || { echo "$0: $* failed" >&2; "$@" >&2; exit 1; }; echo "$(now) - $t0" | bc; }
# A release build of luaenv ($bin) and a scratch folder ($work), removed at exit unless
# BENCH_KEEP is set (to look at what a run left).
build_and_scratch() {
  cargo build --release --quiet
  bin=$PWD/target/release/luaenv
  work=$(mktemp -d)
  [ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
}
