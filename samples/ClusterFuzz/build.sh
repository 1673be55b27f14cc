#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for a Kcov.NET fuzz harness (docs/clusterfuzz.md).
#   1. dotnet publish the harness (self-contained by default: the runner images have no .NET);
#   2. dotnet kcov instrument the code under test (trace-pc and trace-cmp) into $OUT/records_fuzzer.kcov/,
#      and copy the rest of the published harness there;
#   3. write $OUT/records_fuzzer, the executable ClusterFuzz runs, with its .options, .dict and
#      seed corpus beside it.
# It runs in the repository checkout (the Dockerfile's WORKDIR). OSS-Fuzz and ClusterFuzzLite set
# $OUT (where fuzz targets go) and $WORK (scratch space). Overridable: KCOV (how to run the
# dotnet-kcov tool), DOTNET_PUBLISH_FLAGS (e.g. --no-build when the harness is already built).

fuzzer=records_fuzzer
sample=samples/ClusterFuzz
KCOV=${KCOV:-dotnet kcov}
DOTNET_PUBLISH_FLAGS=${DOTNET_PUBLISH_FLAGS:---self-contained -r linux-x64}

published=$WORK/$fuzzer.publish
app=$OUT/$fuzzer.kcov
rm -rf "$published" "$app"
# shellcheck disable=SC2086 # the flags are words
dotnet publish "$sample/RecordsFuzzer/RecordsFuzzer.csproj" -c Release -o "$published" $DOTNET_PUBLISH_FLAGS

# The code under test, instrumented; then everything else of the harness, as published.
$KCOV instrument "$published/Kcov.Samples.Targets.dll" --trace pc,cmp -o "$app"
cp -rn "$published/." "$app/"

# ClusterFuzz tells fuzz targets from other files by the bytes LLVMFuzzerTestOneInput, and runs its
# two-step merge (-merge_control_file) on targets that contain libFuzzer's message
# "fuzz target overwrites its const input": the wrapper says both, in its comments.
cat > "$OUT/$fuzzer" <<WRAPPER
#!/bin/sh
# $fuzzer: a Kcov.NET fuzz harness, run the way ClusterFuzz runs a libFuzzer target
# (LLVMFuzzerTestOneInput, in libFuzzer's terms). It supports libFuzzer's two-step merge, whose
# support ClusterFuzz detects by libFuzzer's message "fuzz target overwrites its const input".
exec "\$(dirname "\$0")/$fuzzer.kcov/RecordsFuzzer" "\$@"
WRAPPER
chmod +x "$OUT/$fuzzer"

cp "$sample/$fuzzer.options" "$sample/$fuzzer.dict" "$OUT/"
rm -f "$OUT/${fuzzer}_seed_corpus.zip"
zip -j -q "$OUT/${fuzzer}_seed_corpus.zip" "$sample"/seeds/*
