#!/usr/bin/env bash
# Web server, RQ workers (one with the scheduler) and the cron scheduler; Ctrl-C stops all.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
# Ctrl-C already reaches every process of the terminal's group: just wait for them to end.
trap 'trap - INT; wait 2>/dev/null; exit 0' INT
trap stop TERM EXIT
$PY manage.py rqworker images videos --with-scheduler \
  --worker-class creations.worker.PreloadingWorker & pids+=($!)
# Recovery and housekeeping run on `default` in a worker of their own: behind a long video
# job they would wait, and a crashed creation would wait for its refund. It runs a scheduler
# too: scheduled posts are enqueued at their time on `default`, and RQ's scheduler moves only
# the jobs of the queues its own worker listens to.
$PY manage.py rqworker default --with-scheduler & pids+=($!)
$PY manage.py rqcron phoenix.cron & pids+=($!)
$PY manage.py runserver 127.0.0.1:8000 & pids+=($!)
wait -n
