#!/usr/bin/env bash
# Run the cmocka unit test binaries given as arguments; write totals to
# build/unit-totals ("passed failed").
set -u
pass=0 fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -E '^\[  (PASSED|FAILED)|^\[  ERROR' || true
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then fail=$((fail + 1)); echo "$out" | tail -20; fi
done
mkdir -p build
echo "$pass $fail" > build/unit-totals
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
