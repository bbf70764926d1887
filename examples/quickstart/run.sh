#!/usr/bin/env bash
# `make run`: start the daemon, start three small apps, show them. Safe to run again: starting an app with
# the same spec is a no-op, so nothing is duplicated. Stop everything with `velos kill`.
set -euo pipefail
velos=${1:-velos}
here=$(cd "$(dirname "$0")" && pwd)

"$velos" daemon
"$velos" start --name web --cwd "$here" python3 -m http.server 8765 --bind 127.0.0.1
"$velos" start --name ticker --cwd "$here" /bin/sh "$here/ticker.sh"
"$velos" start --name worker --restart always --cwd "$here" /bin/sleep 3600
# Wait (bounded) until the ticker has written something, so the log view below is not empty.
for _ in $(seq 1 100); do [ -n "$("$velos" logs ticker --lines 1)" ] && break; sleep 0.02; done

echo
"$velos" list
echo
echo "\$ velos logs ticker --lines 3"
"$velos" logs ticker --lines 3
cat <<MSG

The daemon keeps running in the background (VELOS_HOME=${VELOS_HOME:-$HOME/.velos}). Try:
  $velos info web            # one app in detail; http://127.0.0.1:8765 is being served
  $velos logs ticker -f      # follow a log
  kill -9 \$($velos info worker --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
  $velos list                # ... and the worker is back, restarts = 1
  $velos kill                # stop every app and the daemon
MSG
