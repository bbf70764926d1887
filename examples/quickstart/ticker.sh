#!/bin/sh
# A chatty app for the quickstart: one line a second on stdout, a warning every tenth on stderr.
i=0
while true; do
  i=$((i + 1))
  echo "tick $i"
  [ $((i % 10)) -eq 0 ] && echo "warning: tick $i is a multiple of ten" >&2
  sleep 1
done
