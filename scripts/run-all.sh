#!/usr/bin/env bash
# Web server, RQ worker (with scheduler) and the cron scheduler; Ctrl-C stops all three.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop INT TERM EXIT
$PY manage.py rqworker images videos default --with-scheduler & pids+=($!)
$PY manage.py rqcron phoenix.cron & pids+=($!)
$PY manage.py runserver 127.0.0.1:8000 & pids+=($!)
wait -n
