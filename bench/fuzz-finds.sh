#!/usr/bin/env bash
# How many executions the fuzzer needs to find each planted bug of samples/Kcov.Samples, from an
# empty corpus, for seeds 1..N (default 8): the figures behind the budgets the tests state.
# Prints one line per sample: min / median / max executions, and how many seeds found it.
#   bench/fuzz-finds.sh [seeds]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seeds=${1:-8}
out=$(mktemp -d /tmp/kcov-finds.XXXXXX)
trap 'rm -rf "$out"' EXIT

dotnet build src/Kcov.Cli -c Release --nologo -v quiet -clp:NoSummary > /dev/null
dotnet build samples/Kcov.Samples -c Release --nologo -v quiet -clp:NoSummary > /dev/null
# `kcov fuzz -o` instruments the targets into a runnable copy; -runs=1 just makes the copy.
dotnet src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll fuzz samples/Kcov.Samples/bin/Release/net10.0/Kcov.Samples.dll \
  -o "$out/app" magic -runs=1 "$out/warmup" > /dev/null 2>&1 || true
mkdir -p "$out/warmup"

# sample:budget[:flags], the flags (comma-separated) switching off what finds the bug (the tests' controls).
printf '%-28s %8s %8s %8s %8s  %s\n' sample budget min median max found
for spec in magic:1000 magic:1000:-use_cmp=0 keyword:10000 keyword:10000:-auto_dict=0,-use_call_hooks=0 length:1000 \
            nested:20000 nested-async:20000; do
  IFS=: read -r sample budget flag <<< "$spec"
  flags=(${flag//,/ })
  label="$sample${flag:+ ${flags[*]}}"
  counts=()
  for seed in $(seq 1 "$seeds"); do
    run=$out/$sample${flag//,/}-$seed
    mkdir -p "$run/corpus"
    (cd "$run" && dotnet "$out/app/Kcov.Samples.dll" "$sample" -runs="$budget" -seed="$seed" "${flags[@]}" corpus > log 2>&1) || true
    n=$(sed -n 's/^INFO: found after \([0-9]*\) executions.*/\1/p' "$run/log" | head -n 1)
    [ -n "$n" ] && counts+=("$n")
  done
  if [ ${#counts[@]} -eq 0 ]; then
    printf '%-28s %8s %8s %8s %8s  0/%s\n' "$label" "$budget" - - - "$seeds"
    continue
  fi
  sorted=($(printf '%s\n' "${counts[@]}" | sort -n))
  printf '%-28s %8s %8s %8s %8s  %s/%s\n' "$label" "$budget" "${sorted[0]}" "${sorted[$(( (${#sorted[@]} - 1) / 2 ))]}" \
    "${sorted[-1]}" "${#sorted[@]}" "$seeds"
done
