#!/usr/bin/env bash
# `make run`: apply the quickstart project (the daemon starts by itself), then show the apps and a log.
# Safe to run again: the second apply finds nothing to change and restarts nothing.
# Stop everything with `velos kill`.
set -euo pipefail
velos=${1:-velos}
here=$(cd "$(dirname "$0")" && pwd)

"$velos" apply "$here/velos.toml"
# Wait (bounded) until the ticker has written something, so the log view below is not empty.
for _ in $(seq 1 100); do [ -n "$("$velos" logs ticker --lines 1)" ] && break; sleep 0.02; done

echo
"$velos" list
echo
echo "\$ velos logs ticker --lines 3"
"$velos" logs ticker --lines 3
cat <<MSG

The daemon keeps running in the background (VELOS_HOME=${VELOS_HOME:-$HOME/.velos}). Try:
  $velos apply $here/velos.toml   # again: "No changes", nothing restarted
  $velos info web                 # one app in detail; http://127.0.0.1:8765 is being served
  $velos logs ticker -f           # follow a log
  # edit velos.toml (say, worker's args), then:
  $velos diff $here/velos.toml    # exit 2 and the plan: only worker would be replaced
  $velos kill                     # stop every app and the daemon
MSG
