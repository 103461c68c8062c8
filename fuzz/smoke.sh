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
# fuzz/corpus/<target>/ (both ignored by git).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-${FUZZ_SECONDS:-60}}"
targets=(parse_packet decode_capture stack_input)

export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

start=$(date +%s)
echo "== building fuzz targets"
for target in "${targets[@]}"; do
    cargo fuzz build "$target"
done
echo "   built in $(($(date +%s) - start)) s"

for target in "${targets[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    echo "== fuzzing $target for $seconds s"
    # One process; a crash stops it at once with a non-zero exit. -timeout: one input taking
    # more than 10 s counts as a crash (a hang).
    log="${TMPDIR:-/tmp}/mptcp-fuzz-$target.log"
    status=0
    cargo fuzz run "$target" "$corpus" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done [0-9]+ runs|^stat::' "$log" || true
    if [ "$status" -ne 0 ]; then
        echo "FAIL: $target crashed or did not build (exit $status); full log: $log"
        # The panic message (a failed invariant says what differed), the sanitizer's verdict,
        # and cargo-fuzz's box with the crashing input and how to reproduce and minimise it.
        sed -n '/panicked at/,/^stack backtrace/p' "$log" | head -n 40 || true
        grep -E '^SUMMARY|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|^error' "$log" || true
        sed -n '/^Failing input:/,/^─/p' "$log" | grep -v -e '^[[:space:]]*$' -e '^─' || true
        exit 1
    fi
done
echo "== fuzz smoke passed: ${#targets[@]} target(s), $(($(date +%s) - start)) s in all"
