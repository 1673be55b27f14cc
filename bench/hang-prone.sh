#!/usr/bin/env bash
# A hang-prone campaign against the same target with its loop removed: the `escape` sample of
# samples/Kcov.Samples ('%' + digit loops forever near the entry, a KREC record with a valid checksum
# throws deeper) and `escape-fixed`, Kcov.Samples.Targets instrumented as `dotnet kcov fuzz
# --instrument` does, one executor, from an empty corpus. Per seed the two targets run back to back,
# so their exec/s are taken under the same load.
#   bench/hang-prone.sh [SEEDS=3] [SECONDS=60] [RUNS=100000] [TIMEOUT=10]
# Two parts per seed and target:
#   throughput: -max_total_time=SECONDS with -ignore_crashes=1 -ignore_timeouts=1 (the campaign runs
#     the whole time): executions, exec/s, hangs, hangs parked, executor restarts;
#   depth: -runs=RUNS, stopping at the first crash (-ignore_timeouts=1): the executions at which the
#     KREC bug was found, or "-" if it was not within RUNS.
# exec/s depends on the machine's load; hangs, restarts and the depth part do not (up to the timing of
# hang cuts, which can change the order of a campaign's inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-3}
seconds=${2:-60}
runs=${3:-100000}
timeout=${4:-10}
echo "# bench/hang-prone.sh $seeds $seconds $runs $timeout"

out=$(mktemp -d /tmp/kcov-hangs.XXXXXX)
trap 'rm -rf "$out"' EXIT
dotnet build src/Kcov.Cli -c Release --nologo -v quiet -clp:NoSummary > /dev/null
dotnet build samples/Kcov.Samples -c Release --nologo -v quiet -clp:NoSummary > /dev/null
mkdir -p "$out/warmup"
dotnet src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll fuzz samples/Kcov.Samples/bin/Release/net10.0/Kcov.Samples.dll \
  --instrument Kcov.Samples.Targets.dll -o "$out/app" escape-fixed -runs=1 "$out/warmup" > /dev/null 2>&1 || true

stat() { local v; v=$(sed -n "s/^stat::$1: \([0-9]*\)$/\1/p" "$2" | tail -n 1); echo "${v:--}"; }
found() { local v; v=$(sed -n 's/^INFO: found after \([0-9]*\) executions$/\1/p' "$1" | tail -n 1); echo "${v:--}"; }

printf '\n| seed | target | executions in %s s | exec/s | hangs | hangs parked | executor restarts | KREC bug found after (executions, budget %s) |\n|---|---|---|---|---|---|---|---|\n' "$seconds" "$runs"
for seed in $(seq 1 "$seeds"); do
  for target in escape escape-fixed; do
    run=$out/$target-$seed
    mkdir -p "$run/t/corpus" "$run/d/corpus"
    (cd "$run/t" && dotnet "$out/app/Kcov.Samples.dll" "$target" -max_total_time="$seconds" -seed="$seed" -timeout="$timeout" \
      -ignore_crashes=1 -ignore_timeouts=1 -print_final_stats=1 -close_fd_mask=1 -artifact_prefix=art/ corpus > log 2>&1) || true
    (cd "$run/d" && dotnet "$out/app/Kcov.Samples.dll" "$target" -runs="$runs" -seed="$seed" -timeout="$timeout" \
      -ignore_timeouts=1 -print_final_stats=1 -close_fd_mask=1 -artifact_prefix=art/ corpus > log 2>&1) || true
    # The depth run stops at the crash: its last "found after" line is the crash's (a timeout comes first).
    crash=-
    grep -q '^SUMMARY: Kcov.Fuzzing: crash' "$run/d/log" && crash=$(found "$run/d/log")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$seed" "$target" \
      "$(stat number_of_executed_units "$run/t/log")" "$(stat average_exec_per_sec "$run/t/log")" "$(stat hangs "$run/t/log")" \
      "$(stat hangs_parked "$run/t/log")" "$(stat executor_restarts "$run/t/log")" "$crash"
  done
done
