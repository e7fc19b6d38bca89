#!/bin/sh
# Run a test command against a throwaway Paraph (any language): `paraph dev --json` prints one JSON line
# (base_url, api_key, client_id, inspector_url, dashboard_url, email, password) once it accepts connections.
# Usage: examples/ci/paraph-ci.sh <your test command...>   (PARAPH_PORT and PARAPH_DATA_DIR apply)
# The test command sees DROPBOX_SIGN_HOST (the SDK's host: base_url + /v3), DROPBOX_SIGN_API_KEY,
# DROPBOX_SIGN_CLIENT_ID and CALLBACK_INSPECTOR_URL; it exits with that command's status.
set -eu
data_dir=${PARAPH_DATA_DIR:-.paraph}
mkdir -p "$data_dir"
paraph dev --json --data-dir "$data_dir" > "$data_dir/paraph.json" 2> "$data_dir/paraph.log" &
paraph_pid=$!
trap 'kill "$paraph_pid" 2>/dev/null || true; wait "$paraph_pid" 2>/dev/null || true' EXIT
until [ -s "$data_dir/paraph.json" ]; do
  kill -0 "$paraph_pid" 2>/dev/null || { cat "$data_dir/paraph.log" >&2; exit 1; }
  sleep 0.2
done
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$data_dir/paraph.json" "$1"; }
DROPBOX_SIGN_HOST="$(field base_url)/v3" DROPBOX_SIGN_API_KEY=$(field api_key) \
  DROPBOX_SIGN_CLIENT_ID=$(field client_id) CALLBACK_INSPECTOR_URL=$(field inspector_url) "$@"
