#!/usr/bin/env bash
# Runs every cargo-fuzz target of unyo-inventory for a short time and fails on any crash.
#
#   crates/inventory/fuzz/run-briefly.sh [SECONDS_PER_TARGET]      (default 20)
#
# For CI and for people: builds the targets once (nightly toolchain, AddressSanitizer), then runs
# each of fusion_xml, glpi_json, agent_request for SECONDS with the real sample files of
# crates/inventory/tests/samples as seeds. Exit status: 0 when no target crashed, 1 when one did
# (the reproducer is in crates/inventory/fuzz/artifacts/TARGET/ and the command to replay it is
# printed), 2 when the tools are missing and cannot be installed.
#
# What it needs and does about it:
#   - cargo-fuzz: installed with `cargo install cargo-fuzz --locked` when missing (crates.io).
#   - a nightly toolchain (cargo-fuzz needs -Z flags): used if rustup has one; otherwise it tries
#     `rustup toolchain install nightly --profile minimal`. Where no toolchain can be downloaded,
#     set FUZZ_SKIP_IF_UNAVAILABLE=1 to exit 0 with a notice instead of failing.
#
# Environment:
#   FUZZ_TARGETS             targets to run (default: "fusion_xml glpi_json agent_request")
#   FUZZ_TARGET_DIR          cargo target dir for fuzz builds (default: crates/inventory/fuzz/target;
#                            kept apart from the main build, whose flags and toolchain differ)
#   FUZZ_SKIP_IF_UNAVAILABLE see above
#   FUZZ_EXTRA_ARGS          extra libFuzzer arguments (e.g. "-jobs=2")
#
# The corpus each run finds is kept in crates/inventory/fuzz/corpus/TARGET (not committed), so
# repeated runs on one machine go deeper.
set -euo pipefail

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate_dir="$(dirname "$fuzz_dir")"
samples="$crate_dir/tests/samples"
targets="${FUZZ_TARGETS:-fusion_xml glpi_json agent_request}"
target_dir="${FUZZ_TARGET_DIR:-$fuzz_dir/target}"

unavailable() {
    echo "run-briefly: $*" >&2
    if [ "${FUZZ_SKIP_IF_UNAVAILABLE:-0}" = "1" ]; then
        echo "run-briefly: SKIPPED (FUZZ_SKIP_IF_UNAVAILABLE=1)" >&2
        exit 0
    fi
    exit 2
}

command -v cargo >/dev/null 2>&1 || unavailable "cargo is not on PATH"
command -v rustup >/dev/null 2>&1 || unavailable "rustup is not on PATH (a nightly toolchain is needed)"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "run-briefly: no nightly toolchain; trying to install one" >&2
    rustup toolchain install nightly --profile minimal >&2 || unavailable "no nightly toolchain and it could not be installed"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run-briefly: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked >&2 || unavailable "cargo-fuzz is missing and could not be installed"
fi

# Seeds: the real samples, and agent requests prefixed with the byte that picks the Content-Type.
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/fusion_xml" "$seeds/glpi_json" "$seeds/agent_request"
cp "$samples"/fusioninventory-*.xml "$seeds/fusion_xml/"
cp "$samples"/glpi-computer_1.json "$samples"/glpi-computer_1_partial_softs.json "$samples"/glpi-computer_2.json "$seeds/glpi_json/"
{ printf '\001'; cat "$samples/agent-2.6-prolog.zlib"; } > "$seeds/agent_request/prolog-zlib"
{ printf '\003'; cat "$samples/fusioninventory-2.xml"; } > "$seeds/agent_request/inventory-plain"
printf '\003<REQUEST><DEVICEID>d</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>' > "$seeds/agent_request/prolog-plain"

cd "$crate_dir"
echo "run-briefly: building fuzz targets ($(cargo +nightly --version))" >&2
for t in $targets; do
    cargo +nightly fuzz build --target-dir "$target_dir" "$t" >&2
done

failed=()
for t in $targets; do
    corpus="$fuzz_dir/corpus/$t"
    mkdir -p "$corpus" "$fuzz_dir/artifacts/$t"
    echo "run-briefly: fuzzing $t for ${seconds}s" >&2
    # -timeout: one input taking over 10 s is a finding too; -max_len keeps the big samples usable.
    # shellcheck disable=SC2086
    if cargo +nightly fuzz run --target-dir "$target_dir" "$t" "$corpus" "$seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -max_len=65536 -rss_limit_mb=2048 \
        -print_final_stats=1 ${FUZZ_EXTRA_ARGS:-} 2>"$fuzz_dir/artifacts/$t/last-run.log"; then
        grep -E "^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)" \
            "$fuzz_dir/artifacts/$t/last-run.log" >&2 || true
        echo "run-briefly: $t OK" >&2
    else
        echo "run-briefly: $t FAILED; last lines of its log:" >&2
        tail -n 40 "$fuzz_dir/artifacts/$t/last-run.log" >&2
        for a in "$fuzz_dir/artifacts/$t"/crash-* "$fuzz_dir/artifacts/$t"/timeout-* "$fuzz_dir/artifacts/$t"/oom-*; do
            [ -e "$a" ] && echo "run-briefly: replay with: (cd $crate_dir && cargo +nightly fuzz run $t $a)" >&2
        done
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "run-briefly: crashed: ${failed[*]}" >&2
    exit 1
fi
echo "run-briefly: all targets ran ${seconds}s without a crash: $targets"
