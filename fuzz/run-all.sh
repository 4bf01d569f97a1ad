#!/usr/bin/env bash
# Runs every fuzz target (cargo fuzz / libFuzzer) for FUZZ_SECONDS seconds each, one after
# the other, and prints per target the executions, exec/s and coverage of libFuzzer's final
# `#N DONE cov: … ft: … corp: … exec/s: …` line. Exits non-zero when any target fails
# (a crash, a panic, a leak, a time-out or an out-of-memory), after running the others.
#
#   FUZZ_SECONDS=20 bash fuzz/run-all.sh            # every target, 20 s each (the CI budget)
#   FUZZ_SECONDS=120 bash fuzz/run-all.sh codes     # some targets only
#
# Needs rustup with a nightly toolchain: without one it fails when CI=true and skips
# otherwise. Installs cargo-fuzz when missing. Builds into fuzz/target only (never the
# main workspace's target folder, whatever CARGO_TARGET_DIR says). Corpora grow in
# fuzz/corpus/<target> (seeded from fuzz/seeds/<target>), crashes land in
# fuzz/artifacts/<target>, full logs in fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
fuzz_dir=$(pwd)

seconds=${FUZZ_SECONDS:-20}
# libFuzzer reports an input slower than this as a failure (a hang is a denial of service).
timeout_s=${FUZZ_TIMEOUT:-10}
sanitizer=${FUZZ_SANITIZER:-address}

skip_or_fail() {
  if [ "${CI:-}" = true ]; then
    echo "error: $1" >&2
    exit 1
  fi
  echo "skipping the fuzz run: $1" >&2
  exit 0
}

command -v rustup >/dev/null 2>&1 ||
  skip_or_fail "rustup is not installed; cargo fuzz needs rustup with a nightly toolchain"
# `rustup run` never installs a toolchain when RUSTUP_AUTO_INSTALL=0; say so either way.
if ! RUSTUP_AUTO_INSTALL=0 rustup run nightly rustc --version >/dev/null 2>&1; then
  skip_or_fail "no nightly toolchain (rustup toolchain install nightly); cargo fuzz needs one"
fi
echo "== $(rustup run nightly rustc --version)"

# The fuzz crate is its own workspace with its own target folder: keep it there, even when
# the caller (CI) exports CARGO_TARGET_DIR for the main workspace.
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
echo "== $(cargo fuzz --version)"

max_len_of() {
  case "$1" in
    schema) echo 4096 ;; # JSON Schema compilation is costly; keep documents small
    *) echo 65536 ;;
  esac
}

dict_of() {
  case "$1" in
    signature_headers | standard_webhooks | secrets_and_keys) echo "$fuzz_dir/dicts/signatures.dict" ;;
    *) [ -f "$fuzz_dir/dicts/$1.dict" ] && echo "$fuzz_dir/dicts/$1.dict" || true ;;
  esac
}

mapfile -t all_targets < <(cargo +nightly fuzz list)
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=("${all_targets[@]}")
fi
[ "${#targets[@]}" -gt 0 ] || { echo "error: no fuzz targets found" >&2; exit 1; }

build_flags=(--sanitizer "$sanitizer" --debug-assertions)
echo "== building ${#targets[@]} targets (release, debug assertions, sanitizer: $sanitizer)"
start=$SECONDS
cargo +nightly fuzz build "${build_flags[@]}"
echo "== built in $((SECONDS - start)) s"

mkdir -p "$fuzz_dir/logs"
failed=()
summary=()
for target in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus/$target"
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "$fuzz_dir/seeds/$target" ] && dirs+=("$fuzz_dir/seeds/$target")
  args=(
    -max_total_time="$seconds"
    -rss_limit_mb=2048
    -max_len="$(max_len_of "$target")"
    -timeout="$timeout_s"
    -print_final_stats=1
  )
  dict=$(dict_of "$target")
  [ -n "$dict" ] && args+=(-dict="$dict")
  log="$fuzz_dir/logs/$target.log"
  echo "== $target: ${seconds} s"
  status=0
  cargo +nightly fuzz run "${build_flags[@]}" "$target" "${dirs[@]}" -- "${args[@]}" >"$log" 2>&1 || status=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
  files=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ] && [ -n "$done_line" ]; then
    execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$done_line")
    cov=$(grep -oE 'cov: [0-9]+' <<<"$done_line" | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' <<<"$done_line" | cut -d' ' -f2)
    corp=$(grep -oE 'corp: [^ ]+' <<<"$done_line" | cut -d' ' -f2)
    rate=$(grep -oE 'exec/s: [0-9]+' <<<"$done_line" | cut -d' ' -f2)
    line=$(printf '%-22s ok    execs %10s  exec/s %7s  cov %6s  ft %6s  corp %s (%s files in corpus/)' \
      "$target" "$execs" "$rate" "$cov" "$ft" "$corp" "$files")
  else
    failed+=("$target")
    line=$(printf '%-22s FAIL  exit %s, see %s and %s' "$target" "$status" "$log" "$fuzz_dir/artifacts/$target/")
    grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written' "$log" | head -n 8 >&2 || true
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "== summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "== failed: ${failed[*]}" >&2
  exit 1
fi
echo "== all ${#targets[@]} targets ran without a failure"
