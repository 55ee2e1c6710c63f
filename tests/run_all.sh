#!/usr/bin/env bash
# Build everything, run unit tests, integration tests, and integration tests
# under ASan+UBSan; print the grand total as "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
rc=0
make -j"$(nproc)" all asan || exit 1
make unit || rc=1
bash tests/run_integration.sh plain || rc=1
bash tests/run_integration.sh asan || rc=1
if [ -n "$(ls tests/fuzz/fuzz_*.c 2>/dev/null)" ]; then
	make -j"$(nproc)" $(ls tests/fuzz/fuzz_*.c | sed "s|tests/fuzz/|build-fuzz/|; s|\.c$||") >/dev/null || rc=1
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} make fuzz || rc=1
fi
pass=0 fail=0
for f in build/unit-totals build/integration-plain-totals build/integration-asan-totals; do
	if [ -f "$f" ]; then read -r p q < "$f"; pass=$((pass + p)); fail=$((fail + q)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ $rc -eq 0 ] && [ $fail -eq 0 ]
