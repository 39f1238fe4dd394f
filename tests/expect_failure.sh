#!/bin/sh
# expect_failure.sh TEXT COMMAND [ARGS...]: passes when COMMAND exits non-zero and its output contains TEXT.
expected=$1
shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -eq 0 ]; then
  echo "expect_failure: '$*' succeeded; it should have failed" >&2
  exit 1
fi
case "$output" in
  *"$expected"*) exit 0 ;;
  *) echo "expect_failure: the output lacks: $expected" >&2; exit 1 ;;
esac
