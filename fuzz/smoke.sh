#!/usr/bin/env bash
# Smoke test of the fuzz targets: builds them and runs each for a bounded time, starting from
# its seeds. Exits non-zero if the build fails or libFuzzer finds a crash (a panic, a failed
# invariant, an AddressSanitizer report, a timeout or running out of memory).
#
# Needs only a stable Rust toolchain and cargo-fuzz; installs cargo-fuzz with
# `cargo install cargo-fuzz --locked` when it is missing (about 40 s on a 2-core machine).
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, ...) to rustc: RUSTC_BOOTSTRAP=1
# lets the stable compiler accept them, so no nightly toolchain is needed.
#
# Usage: fuzz/smoke.sh [SECONDS_PER_TARGET]   (default 60; or FUZZ_SECONDS in the environment)
# Crashing inputs are written to fuzz/artifacts/<target>/; the grown corpus to
# fuzz/corpus/<target>/ (both ignored by git). The targets are listed in fuzz/common.sh.
set -euo pipefail
cd "$(dirname "$0")"
source ./common.sh

seconds="${1:-${FUZZ_SECONDS:-60}}"
fuzz_setup

start=$(date +%s)
echo "== building fuzz targets"
fuzz_build
echo "   built in $(($(date +%s) - start)) s"

for target in "${FUZZ_TARGETS[@]}"; do
    echo "== fuzzing $target for $seconds s"
    # One process; a crash stops it at once with a non-zero exit.
    log="${TMPDIR:-/tmp}/mptcp-fuzz-$target.log"
    status=0
    fuzz_run "$target" "$seconds" "$log" || status=$?
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done [0-9]+ runs|^stat::' "$log" || true
    if [ "$status" -ne 0 ]; then
        echo "FAIL: $target crashed or did not build (exit $status); full log: $log"
        fuzz_failure "$log"
        exit 1
    fi
done
echo "== fuzz smoke passed: ${#FUZZ_TARGETS[@]} target(s), $(($(date +%s) - start)) s in all"
