#!/usr/bin/env bash
# Executions per second of the README's Markdig campaign (`markdown` target of samples/Kcov.Samples,
# Markdig instrumented by `dotnet kcov fuzz --instrument`, empty corpus, -runs=RUNS, one executor),
# one run per seed. With BASELINE (another checkout of this repository), the same campaigns run with
# its build too, each seed's pair back to back, so both see the same load; prints each run, then
# min / median exec/s per build and the ratio of medians.
# The campaigns' directories are made under $TMPDIR (default /tmp). The supervisor writes and removes
# thousands of corpus files: on a file system where that is slow (ext4 without a journal scans its
# recently deleted inodes for each new file) it competes with the executor for the cores, so give a
# tmpfs (TMPDIR=/dev/shm) to measure the executor.
#   bench/fuzz-execs.sh [SEEDS=5] [RUNS=100000] [BASELINE]
#   git worktree add --detach /tmp/before main~3 && bench/fuzz-execs.sh 5 100000 /tmp/before
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-5}
runs=${2:-100000}
baseline=${3:-}
out=$(mktemp -d "${TMPDIR:-/tmp}/kcov-execs.XXXXXX")
trap 'rm -rf "$out"' EXIT

build() {
  dotnet build "$1/src/Kcov.Cli" -c Release --nologo -v quiet -clp:NoSummary > /dev/null
  dotnet build "$1/samples/Kcov.Samples" -c Release --nologo -v quiet -clp:NoSummary > /dev/null
}

# Prints the campaign's final exec/s (libFuzzer's DONE line). A finding does not end the campaign
# (`dotnet kcov fuzz` passes -ignore_crashes=1 and the like) but sets its exit code: 77, 70 or 71.
campaign() {
  local root=$1 seed=$2 dir="$out/$3.$2" code=0
  mkdir -p "$dir/corpus"
  (cd "$dir" && dotnet "$root/src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll" fuzz \
    "$root/samples/Kcov.Samples/bin/Release/net10.0/Kcov.Samples.dll" --instrument Markdig.dll -o app \
    markdown -runs="$runs" -seed="$seed" corpus > log 2>&1) || code=$?
  if ! grep -q "DONE" "$dir/log" || [[ ! $code =~ ^(0|70|71|77)$ ]]; then
    echo "campaign $3 seed $seed failed (exit $code); its log:" >&2; tail -n 20 "$dir/log" >&2; exit 1
  fi
  sed -n 's/.*DONE .*exec\/s: \([0-9]*\).*/\1/p' "$dir/log"
  rm -rf "$dir"
}

summary() { sort -n | awk '{ v[NR] = $1 } END { printf "%s / %s", v[1], v[int((NR + 1) / 2)] }'; }

build "$PWD"
[ -z "$baseline" ] || build "$baseline"
for seed in $(seq 1 "$seeds"); do
  if [ -n "$baseline" ]; then
    b=$(campaign "$(cd "$baseline" && pwd)" "$seed" baseline)
    echo "seed $seed baseline $b exec/s"
    echo "$b" >> "$out/baseline"
  fi
  t=$(campaign "$PWD" "$seed" this)
  echo "seed $seed this $t exec/s"
  echo "$t" >> "$out/this"
done
echo "this build: exec/s min / median $(summary < "$out/this")"
if [ -n "$baseline" ]; then
  echo "baseline:   exec/s min / median $(summary < "$out/baseline")"
  paste <(sort -n "$out/this") <(sort -n "$out/baseline") | awk '{ t[NR] = $1; b[NR] = $2 } END { m = int((NR + 1) / 2); printf "ratio of medians: %.2fx\n", t[m] / b[m] }'
fi
