#!/usr/bin/env bash
# How many executions `dotnet kcov fuzz-http` needs to find the planted bug of samples/OrderService
# (in its queue's consumer), from an empty corpus, for seeds 1..N (default 8), against one running
# instrumented service: the figures behind the budget the tests state.
#   bench/fuzz-http-finds.sh [seeds]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-8}
budget=20000
out=$(mktemp -d /tmp/kcov-http-finds.XXXXXX)
service=
cleanup() {
  [ -n "$service" ] && kill -TERM "$service" 2> /dev/null && wait "$service" 2> /dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT

dotnet build src/Kcov.Cli -c Release --nologo -v quiet -clp:NoSummary > /dev/null
dotnet build samples/OrderService -c Release --nologo -v quiet -clp:NoSummary > /dev/null
kcov="dotnet $PWD/src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll"
$kcov instrument --trace pc,cmp samples/OrderService/bin/Release/net10.0/OrderService.dll -o "$out/app" > /dev/null
KCOV_CONTROL="$out/kcov.sock" dotnet "$out/app/OrderService.dll" --urls http://127.0.0.1:0 > "$out/service.log" 2>&1 &
service=$!
for _ in $(seq 1 600); do
  url=$(sed -n 's/.*Now listening on: \(http:[^ ]*\).*/\1/p' "$out/service.log" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the service did not start:"; cat "$out/service.log"; exit 1; }

counts=()
for seed in $(seq 1 "$seeds"); do
  run=$out/seed-$seed
  mkdir -p "$run/corpus"
  (cd "$run" && $kcov fuzz-http "$url/orders" --control "$out/kcov.sock" -runs=$budget -seed="$seed" -max_len=64 corpus > log 2>&1) || true
  n=$(sed -n 's/^INFO: found after \([0-9]*\) executions.*/\1/p' "$run/log" | head -n 1)
  echo "seed $seed: ${n:-not found} (exec/s at the end: $(sed -n 's/.*DONE .*exec\/s: \([0-9]*\).*/\1/p' "$run/log"))"
  [ -n "$n" ] && counts+=("$n")
done
if [ ${#counts[@]} -eq 0 ]; then
  echo "budget $budget: found by 0/$seeds seeds"
  exit 0
fi
sorted=($(printf '%s\n' "${counts[@]}" | sort -n))
echo "budget $budget: min ${sorted[0]}, median ${sorted[$(( (${#sorted[@]} - 1) / 2 ))]}, max ${sorted[-1]}, found by ${#sorted[@]}/$seeds seeds"
