#!/usr/bin/env bash
# Kcov.NET's main job on the bundled samples, start to finish:
#   1. instrument a program (trace-pc at every basic block, a PC map beside it),
#   2. run it on one input with KCOV_ENABLE on its main thread and print the PCs,
#   3. symbolize them the way addr2line does for kcov.rst's example,
#   4. fuzz a parser with a planted bug from an empty corpus until it crashes,
#   5. minimize the crash, keeping its signature,
#   6. report the block coverage of the corpus the fuzzer built.
# Everything it writes goes under out/demo/. Needs only the .NET 10 SDK.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
out=$root/out/demo
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The dotnet-kcov tool as built here (installed, it is `dotnet kcov`).
kcov() { dotnet "$root/src/Kcov.Cli/bin/Release/net10.0/dotnet-kcov.dll" "$@"; }

step "Building the dotnet-kcov tool and the samples (Release)"
for project in src/Kcov.Cli samples/HelloParser samples/Kcov.Samples; do
  dotnet build "$project" -c Release --nologo -v quiet -clp:NoSummary
done

step "1. dotnet kcov instrument samples/HelloParser (an INI parser)"
kcov instrument samples/HelloParser/bin/Release/net10.0/HelloParser.dll -o "$out/hello"

step "2. dotnet kcov run: the parser on samples/HelloParser/sample.ini, PCs of its main thread"
kcov run -o "$out/hello/pcs.txt" -- "$out/hello/HelloParser.dll" samples/HelloParser/sample.ini
echo "$(wc -l < "$out/hello/pcs.txt") PCs, the first ones:"
head -n 4 "$out/hello/pcs.txt"

step "3. dotnet kcov symbolize: function, then file:line, per PC (kcov.rst's addr2line output)"
kcov symbolize --map "$out/hello" "$out/hello/pcs.txt" | sed "s|$root/||"

step "4. dotnet kcov fuzz: the 'nested' sample from an empty corpus (seed 1, at most 20000 runs)"
mkdir -p "$out/fuzz/corpus"
status=0
kcov fuzz samples/Kcov.Samples/bin/Release/net10.0/Kcov.Samples.dll -o "$out/fuzz/app" \
  nested -runs=20000 -seed=1 -artifact_prefix="$out/fuzz/" "$out/fuzz/corpus" 2>&1 |
  awk '/^#[0-9]+\t(NEW|REDUCE|pulse)/ { if (++shown > 6) { if (shown == 7) print "  ... (more NEW/REDUCE lines)"; next } } { print }' |
  sed "s|$root/||g" || status=$?
crash=$(ls "$out"/fuzz/crash-* 2>/dev/null | head -n 1)
if [ -z "$crash" ]; then
  echo "demo: the fuzzer found no crash (exit $status); this is not expected with -seed=1" >&2
  exit 1
fi

step "5. -minimize_crash=1: shrink the crash, keeping its signature"
(cd "$out/fuzz" && dotnet app/Kcov.Samples.dll nested -minimize_crash=1 -runs=10000 "$crash" 2>&1 | sed "s|$root/||g") || true

step "6. Block coverage of the corpus the fuzzer built (dotnet kcov report --corpus: each input once, no trace on disk)"
kcov report --corpus "$out/fuzz/corpus" --format summary -- "$out/fuzz/app/Kcov.Samples.dll" nested 2>&1 | sed "s|$root/||g" |
  awk '/^ covered .* (type|method)$/ { done = 1 } !done { print }'

echo
echo "Outputs: $out (instrumented programs, PC maps, corpus, crash and minimized input)."
