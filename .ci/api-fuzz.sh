#!/usr/bin/env bash
# CI: fuzzes the HTTP API against its own OpenAPI document with schemathesis
# (https://schemathesis.io), every check on: each answer must be documented (status,
# content type, body schema), valid requests must be accepted and invalid ones refused
# with a 4xx, no request may cause a 5xx, and the server must log no ERROR and no panic.
# Nothing is accepted as a known failure: the step passes with zero. (One check is off
# for two operations whose bodies name other resources; see the configuration below.)
#
# The server is the debug `hookrelay` binary that `cargo test --workspace` has built in
# the target folder (when it is missing, this builds exactly that, so nothing is built
# twice). It runs on a fresh SQLite file inside a network namespace of its own
# (`unshare -n`, loopback only), so deliveries to the URLs the fuzzer invents never
# leave the machine.
#
#   bash .ci/api-fuzz.sh    # python3 with venv, curl, unshare, ip; PyPI on the first run
#
# Environment: CARGO_TARGET_DIR (default ./target), API_FUZZ_MAX_EXAMPLES (30),
# API_FUZZ_SEED (42).
set -euo pipefail
cd "$(dirname "$0")/.."

# schemathesis and what it runs on, pinned, so a run is the same run each time (the
# seed fixes the draws, these fix the generators).
REQUIREMENTS="schemathesis==4.32.5
hypothesis==6.170.29
hypothesis-graphql==0.13.5
jsonschema_rs==0.60.3
anyio==4.16.0
certifi==2026.10.19.post1
charset-normalizer==3.5.3
click==8.5.1
graphql-core==3.3.2
harfile==0.6.0
idna==3.21
iniconfig==2.3.1
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
packaging==26.4
pluggy==1.7.0
Pygments==2.21.0
pyrate-limiter==4.6.0
pytest==9.2.0
PyYAML==6.0.4
requests==2.34.2
rich==15.0.0
sortedcontainers==2.4.0
typing_extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
bin="$target/debug/hookrelay"

if [ "${1:-}" != "--inside" ]; then
  # What the step needs besides Rust, from Debian's packages when missing (as .ci/run
  # does for PostgreSQL and Chromium).
  missing=()
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} from Debian's packages"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; then
      apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
  fi
  if [ ! -x "$bin" ]; then
    echo "== building the workspace as cargo test --workspace does (it builds the hookrelay binary)"
    cargo test --workspace --no-run --locked
  fi
  # A virtual environment kept in the target folder, so reruns reuse it.
  venv="$target/api-fuzz/venv"
  if [ "$(cat "$venv/requirements.txt" 2>/dev/null)" != "$REQUIREMENTS" ]; then
    echo "== installing schemathesis into $venv"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    printf '%s\n' "$REQUIREMENTS" >"$venv/constraints.txt"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      -c "$venv/constraints.txt" schemathesis
    printf '%s' "$REQUIREMENTS" >"$venv/requirements.txt"
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/hookrelay-api-fuzz.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # As root a plain network namespace; otherwise one in a user namespace of our own.
  if [ "$(id -u)" = 0 ]; then unshare_flags=(-n); else unshare_flags=(-r -n); fi
  echo "== schemathesis against hookrelay serve (in a network namespace of its own)"
  unshare "${unshare_flags[@]}" bash "$0" --inside "$work" "$venv" "$bin"
  exit $?
fi

# Inside the namespace.
work=$2
venv=$3
bin=$4
ip link set lo up

base=http://127.0.0.1:8080
token="hr_fuzz_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
log="$work/server.log"

# JSON logs, so an ERROR level cannot be confused with text the fuzzer sent.
HOOKRELAY_LISTEN=127.0.0.1:8080 \
  HOOKRELAY_DATABASE_URL="sqlite://$work/fuzz.db" \
  HOOKRELAY_ADMIN_TOKEN="$token" \
  HOOKRELAY_RETENTION=off \
  RUST_LOG=info \
  "$bin" serve --log-format json >"$log" 2>&1 &
server=$!
stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop_server EXIT

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$base/health" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "$base/health" || { cat "$log" >&2; exit 1; }

# The fixture the fuzzer's path parameters name: scope `st`, endpoint `ep1`, source
# `src1` (whose settings the fuzzer changes) and `src2` (which the gateway is sent to,
# so it keeps accepting, and whose request log is read); the event types publishes
# name (`st.fixture`, and `order.paid`, the document's example); and three ed25519
# public keys for Standard Webhooks sources.
api() {
  local method=$1 path=$2 body=$3
  local status
  local data=()
  if [ -n "$body" ]; then data=(-H 'content-type: application/json' -d "$body"); fi
  status=$(curl -sS -o "$work/answer" -w '%{http_code}' -X "$method" "$base/api/v1$path" \
    -H "authorization: Bearer $token" "${data[@]}")
  case $status in
    2??) ;;
    *) echo "fixture: $method $path answered $status: $(cat "$work/answer")" >&2; exit 1 ;;
  esac
}
api PUT /event-types/st.fixture '{"name":"Fixture"}'
api PUT /event-types/order.paid '{"name":"Order paid"}'
api POST /scopes/st/endpoints '{"code":"ep1","url":"https://receiver.invalid/ep1"}'
api PUT /scopes/st/subscriptions '{"ep1":["*"]}'
api PUT /sources/src1 '{"verify":{"type":"none"},"forward_to":["https://receiver.invalid/src1"]}'
api PUT /sources/src2 '{"verify":{"type":"none"},"forward_to":["https://receiver.invalid/src2"]}'
api POST /events '{"type":"st.fixture","scopes":["st"],"data":{}}'
public_keys=()
for n in 1 2 3; do
  api POST /scopes/st-keys/endpoints "{\"code\":\"ed$n\",\"url\":\"https://receiver.invalid/ed$n\",\"key_type\":\"ed25519\"}"
  api GET /scopes/st-keys/endpoints/ed$n/secret ''
  public_keys+=("$(sed -E 's/.*"public_key":"([^"]+)".*/\1/' "$work/answer")")
done

# A `whpk_` key must be a valid ed25519 public key, which the document says with the
# format `ed25519-public-key` (no pattern can); the fuzzer draws such keys from these.
mkdir -p "$work/hooks"
cat >"$work/hooks/hookrelay_fuzz_hooks.py" <<'PY'
import os

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format(
    "ed25519-public-key",
    st.sampled_from(os.environ["HOOKRELAY_FUZZ_PUBLIC_KEYS"].split()),
)
PY

# Every check runs (schemathesis's default: `--checks all` would also override the two
# per-operation exclusions below). Path parameters are pinned to the fixture; the
# operations that would destroy it are left out on the command line (the integration
# tests cover them).
cat >"$work/schemathesis.toml" <<EOF
[parameters]
"path.scope" = "st"
"path.name" = "src1"

[[operations]]
include-tag = "endpoints"
parameters = { "path.code" = "ep1" }

[[operations]]
include-operation-id = ["inbound.receive", "sources.requests", "sources.request"]
parameters = { "path.name" = "src2" }

# Two bodies name other resources, which no schema can state: a published event's
# \`type\` must be a registered type, and the subscriptions map is keyed by the codes of
# endpoints that exist in the scope. A well-formed name of nothing is rightly a 422
# ("unknown event type …", "no endpoint … in scope st"; the integration tests cover
# both), which positive_data_acceptance reports as valid data refused, so that one check
# is off for these two operations; every other check runs on them. The fuzzing phase
# publishes the fixture's type (the coverage phase ignores body overrides).
[[operations]]
include-operation-id = "events.publish"
parameters = { "body.type" = "st.fixture" }
checks.positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = "subscriptions.apply"
checks.positive_data_acceptance.enabled = false
EOF

set +e
# From the temporary folder, where schemathesis keeps its cache.
cd "$work"
SCHEMATHESIS_HOOKS=hookrelay_fuzz_hooks PYTHONPATH="$work/hooks" \
  HOOKRELAY_FUZZ_PUBLIC_KEYS="${public_keys[*]}" \
  "$venv/bin/st" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
  --workers 1 \
  --max-examples "${API_FUZZ_MAX_EXAMPLES:-30}" \
  --seed "${API_FUZZ_SEED:-42}" \
  --generation-database none \
  --request-timeout 10 \
  --header "Authorization: Bearer $token" \
  --exclude-operation-id endpoints.delete \
  --exclude-operation-id endpoints.apply \
  --exclude-operation-id sources.delete \
  --exclude-operation-id event_types.sync \
  --no-color
status=$?
set -e
stop_server

# A 5xx fails the not_a_server_error check; the server also logs every 5xx at ERROR. A
# panic is printed by Rust's hook as a plain line, outside the JSON log lines.
if grep -E '"level":"ERROR"' "$log" >&2 || grep -v '^{' "$log" | grep -E 'panicked' >&2; then
  echo "the server logged errors or panicked (above)" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  echo "== the server's log (last 40 lines)" >&2
  tail -n 40 "$log" >&2
fi
exit $status
