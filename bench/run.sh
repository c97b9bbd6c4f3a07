#!/usr/bin/env bash
# `make bench`: Phoenix under production settings and load, against floors of the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
bash scripts/ensure-services.sh
exec env -u PHOENIX_STATICFILES_STORAGE DEBUG=0 .venv/bin/python -m bench.runner "$@"
