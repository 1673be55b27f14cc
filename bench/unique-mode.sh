#!/usr/bin/env bash
# Fuzzing with kcov's unique mode against trace-pc, on Markdig (the README's `markdown` target of
# samples/Kcov.Samples, Markdig instrumented by `dotnet kcov fuzz --instrument Markdig.dll`), from an
# empty corpus at equal executions, one executor. Per seed the configurations run back to back, so
# the exec/s ratio of a seed is taken under the same load. Prints every run, then per configuration
# the median [min-max] of features, blocks, edges, corpus size, area overflows, exec/s, and the
# exec/s of each unique configuration over trace-pc's of the same seed.
#   bench/unique-mode.sh [SEEDS=3] [RUNS=100000]
#   CONFIGS="trace-pc unique" AREA_WORDS=16384 EXTRA_FLAGS=-use_cmp=0 bench/unique-mode.sh 1 20000
# Features, blocks, edges, corpus and overflows of a fixed-executions run do not depend on the
# machine's load; exec/s does.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-3}
runs=${2:-100000}
configs=${CONFIGS:-trace-pc unique unique-blocks}
area=${AREA_WORDS:-1048576}
extra=${EXTRA_FLAGS:-}
echo "# CONFIGS='$configs' AREA_WORDS=$area EXTRA_FLAGS='$extra' bench/unique-mode.sh $seeds $runs"

flags_of() {
  case "$1" in
    trace-pc) echo "-kcov_unique=0" ;;
    unique) echo "-kcov_unique=1" ;;
    unique-blocks) echo "-kcov_unique=2" ;;
    *) echo "unknown configuration '$1'" >&2; exit 1 ;;
  esac
}

out=$(mktemp -d /tmp/kcov-unique.XXXXXX)
trap 'rm -rf "$out"' EXIT
dotnet build src/Kcov.Cli -c Release --nologo -v quiet -clp:NoSummary > /dev/null
dotnet build samples/Kcov.Samples -c Release --nologo -v quiet -clp:NoSummary > /dev/null
mkdir -p "$out/warmup"
dotnet src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll fuzz samples/Kcov.Samples/bin/Release/net10.0/Kcov.Samples.dll \
  --instrument Markdig.dll -o "$out/app" markdown -runs=1 "$out/warmup" > /dev/null 2>&1 || true

stat() { local v; v=$(sed -n "s/^stat::$1: \([0-9]*\)$/\1/p" "$2" | tail -n 1); echo "${v:--}"; }
summary() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = v[int((NR + 1) / 2)]; printf "%s [%s-%s]", m, v[1], v[NR] }'
}

cols="features blocks edges corpus_size kcov_area_overflows average_exec_per_sec"
printf '\n| seed | config | features | blocks | edges | corpus | area overflows | exec/s |\n|---|---|---|---|---|---|---|---|\n'
for seed in $(seq 1 "$seeds"); do
  for config in $configs; do
    run=$out/$config-$seed
    mkdir -p "$run/corpus" "$run/art"
    (cd "$run" && dotnet "$out/app/Kcov.Samples.dll" markdown -runs="$runs" -seed="$seed" -kcov_area_words="$area" \
      -print_final_stats=1 -close_fd_mask=1 -artifact_prefix=art/ $(flags_of "$config") $extra corpus > log 2>&1) || true
    row=""
    for c in $cols; do row="$row $(stat "$c" "$run/log")"; done
    echo "$seed $config$row" >> "$out/rows"
    printf '| %s | %s | %s |\n' "$seed" "$config" "$(echo $row | sed 's/ / | /g')"
  done
done

printf '\n| config | features | blocks | edges | corpus | area overflows | exec/s | exec/s / trace-pc |\n|---|---|---|---|---|---|---|---|\n'
for config in $configs; do
  printf '| %s |' "$config"
  for col in 3 4 5 6 7 8; do
    printf ' %s |' "$(awk -v c="$config" -v k=$col '$2 == c && $k ~ /^[0-9]+$/ { print $k }' "$out/rows" | summary)"
  done
  # Per seed, against trace-pc's run of the same seed (taken just before, under the same load).
  printf ' %s |\n' "$(awk -v c="$config" '$2 == "trace-pc" { base[$1] = $8 } $2 == c && base[$1] > 0 { printf "%.2f\n", $8 / base[$1] }' "$out/rows" | summary)"
done
