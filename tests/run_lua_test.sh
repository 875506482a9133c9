#!/bin/sh
# run_lua_test.sh SCALELAB SCRIPT: runs a Lua test script (tests/lua) and passes only when it exits 0
# AND ends with scalelab.test's done() line ("N passed, 0 failed"). A script that never calls
# t.done() exits 0 whatever its checks found (its failures are only printed), so without this a
# failed check could not fail the test.
scalelab=$1
script=$2
output=$("$scalelab" "$script" 2>&1)
status=$?
printf '%s\n' "$output"
if [ $status -ne 0 ]; then
  exit $status
fi
if ! printf '%s\n' "$output" | grep -Eq '^[0-9]+ passed, 0 failed'; then
  echo "run_lua_test.sh: $script exited 0 without printing scalelab.test's summary: end it with t.done(), which fails the script on any failed check"
  exit 1
fi
