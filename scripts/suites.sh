#!/usr/bin/env bash
# Runs make targets one after another (make test's suites), timing each, and prints the table at
# the end, also when a suite fails (then the run stops there, with make's status).
# Usage: scripts/suites.sh TARGET...   (MAKE: the make to call; the times go to target/suite-times.txt)
set -uo pipefail
make_cmd="${MAKE:-make}"
mkdir -p target
table=target/suite-times.txt
: > "$table"
start_all=$(date +%s)
status=0
for suite in "$@"; do
  printf '\n==== %s\n' "$suite"
  start=$(date +%s)
  $make_cmd --no-print-directory "$suite"
  status=$?
  seconds=$(( $(date +%s) - start ))
  printf '%-20s %4dm%02ds%s\n' "$suite" $(( seconds / 60 )) $(( seconds % 60 )) "$([ $status = 0 ] || echo '  FAILED')" >> "$table"
  [ $status = 0 ] || break
done
total=$(( $(date +%s) - start_all ))
printf '%-20s %4dm%02ds\n' total $(( total / 60 )) $(( total % 60 )) >> "$table"
printf '\n==== time per suite (%s)\n' "$table"
cat "$table"
exit $status
