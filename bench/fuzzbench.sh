#!/usr/bin/env bash
# A FuzzBench-style benchmark of the fuzzer on six real parsers from NuGet (bench/Kcov.FuzzBench:
# Markdig, YamlDotNet, AngleSharp, CsvHelper, HtmlAgilityPack, SharpZipLib), each campaign from an
# empty corpus, one executor, for a fixed number of executions and (if SECONDS > 0) for a fixed time,
# with SEEDS seeds, in one configuration per feature toggle. Prints, per target and configuration, the
# median [min-max] of: blocks and edges reached, corpus size, exec/s, deduplicated crashes.
#   bench/fuzzbench.sh [SEEDS=5] [RUNS=20000] [SECONDS=60]
#   TARGETS="markdig yaml" CONFIGS="default hooks-off" bench/fuzzbench.sh 3 5000 0
# Coverage and crashes of the fixed-executions runs do not depend on the machine's load; exec/s and
# the fixed-time runs do.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-5}
runs=${2:-20000}
seconds=${3:-60}
targets=${TARGETS:-markdig yaml anglesharp csv html zip}
configs=${CONFIGS:-default hooks-off cmp-off entropic value-profile}
echo "# TARGETS='$targets' CONFIGS='$configs' bench/fuzzbench.sh $seeds $runs $seconds"

flags_of() {
  case "$1" in
    default) echo "" ;;
    hooks-off) echo "-use_call_hooks=0" ;;
    cmp-off) echo "-use_cmp=0" ;;
    dict-off) echo "-auto_dict=0" ;;
    entropic) echo "-entropic=1" ;;
    value-profile) echo "-use_value_profile=1" ;;
    *) echo "unknown configuration '$1'" >&2; exit 1 ;;
  esac
}

out=$(mktemp -d /tmp/kcov-fuzzbench.XXXXXX)
trap 'rm -rf "$out"' EXIT
dotnet build src/Kcov.Cli -c Release --nologo -v quiet -clp:NoSummary > /dev/null
dotnet build bench/Kcov.FuzzBench -c Release --nologo -v quiet -clp:NoSummary > /dev/null
# `dotnet-kcov fuzz -o` instruments the six libraries (pc and cmp, with call-site hooks) into a runnable copy.
mkdir -p "$out/warmup"
dotnet src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll fuzz bench/Kcov.FuzzBench/bin/Release/net10.0/Kcov.FuzzBench.dll \
  -o "$out/app" markdig -runs=1 "$out/warmup" > /dev/null 2>&1 || true

stat() { local v; v=$(sed -n "s/^stat::$1: \([0-9]*\)$/\1/p" "$2" | tail -n 1); echo "${v:--}"; }

# median [min-max] of the numbers on stdin
summary() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = v[int((NR + 1) / 2)]; printf "%s [%s-%s]", m, v[1], v[NR] }'
}

run_mode() {
  local mode=$1 limit=$2
  printf '\n## %s\n\n| target | config | blocks | edges | corpus | exec/s | crashes |\n|---|---|---|---|---|---|---|\n' "$mode"
  for target in $targets; do
    for config in $configs; do
      : > "$out/rows"
      for seed in $(seq 1 "$seeds"); do
        run=$out/$target-$config-$mode-$seed
        mkdir -p "$run/corpus" "$run/art"
        # The -ignore_* flags: a run measures its whole budget, whatever it finds on the way.
        (cd "$run" && dotnet "$out/app/Kcov.FuzzBench.dll" "$target" $limit -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
          -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
          -print_final_stats=1 -close_fd_mask=1 -artifact_prefix=art/ $(flags_of "$config") corpus > log 2>&1) || true
        echo "$(stat blocks "$run/log") $(stat edges "$run/log") $(stat corpus_size "$run/log") $(stat average_exec_per_sec "$run/log") $(ls "$run/art" | grep -c '^crash-' || true)" >> "$out/rows"
      done
      printf '| %s | %s |' "$target" "$config"
      for col in 1 2 3 4 5; do printf ' %s |' "$(awk -v c=$col '$c ~ /^[0-9]+$/ { print $c }' "$out/rows" | summary)"; done
      printf '\n'
    done
  done
}

run_mode "fixed executions: -runs=$runs" "-runs=$runs"
if [ "$seconds" -gt 0 ]; then
  run_mode "fixed time: -max_total_time=$seconds" "-max_total_time=$seconds"
fi
