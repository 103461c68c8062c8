# What fuzz/smoke.sh and scripts/soak share; sourced, from the fuzz/ directory.

# The fuzz targets, each a [[bin]] of Cargo.toml.
FUZZ_TARGETS=(parse_packet decode_capture stack_input stack_api)

# Installs cargo-fuzz when it is missing (about 40 s on a 2-core machine).
fuzz_setup() {
    export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "== installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
    cargo fuzz --version
}

# `cargo fuzz ARGS...`, letting the stable compiler take cargo-fuzz's nightly-only flags
# (-Zsanitizer=address, ...). Only here: RUSTC_BOOTSTRAP in the environment of other cargo
# commands would make them rebuild everything.
fuzz_cargo() {
    RUSTC_BOOTSTRAP=1 cargo fuzz "$@"
}

# Builds every target.
fuzz_build() {
    local target
    for target in "${FUZZ_TARGETS[@]}"; do
        fuzz_cargo build "$target"
    done
}

# fuzz_run TARGET SECONDS LOG: fuzzes TARGET in one process for SECONDS from its seeds,
# growing corpus/TARGET, all output to LOG. Non-zero when libFuzzer found a crash (a panic, a
# failed invariant, an AddressSanitizer report, an input taking over 10 s, running out of
# memory); the input is then in artifacts/TARGET/.
fuzz_run() {
    local target=$1 seconds=$2 log=$3
    mkdir -p "corpus/$target"
    fuzz_cargo run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1
}

# fuzz_failure LOG: what a crashed run's log says: the panic message (a failed invariant says
# what differed), the sanitizer's verdict, and cargo-fuzz's box with the crashing input and
# how to reproduce and minimise it.
fuzz_failure() {
    local log=$1
    sed -n '/panicked at/,/^stack backtrace/p' "$log" | head -n 40 || true
    grep -E '^SUMMARY|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|^error' "$log" || true
    sed -n '/^Failing input:/,/^─/p' "$log" | grep -v -e '^[[:space:]]*$' -e '^─' || true
}
