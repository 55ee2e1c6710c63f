#!/usr/bin/env bash
# Run the pytest integration suite against build/ternd (plain) or
# build-asan/ternd (asan); write totals to build/integration-MODE-totals.
set -u
mode=${1:-plain}
cd "$(dirname "$0")/.."
if [ "$mode" = asan ]; then
	export TERN_BIN=$PWD/build-asan/ternd
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
	export TERN_BIN=$PWD/build/ternd
fi
export TERN_CLIENT=$PWD/build/tern
xml=build/junit-$mode.xml
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration --junitxml="$xml" "${@:2}"
rc=$?
read -r p f < <(/usr/bin/python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    t, fl, er, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(t - fl - er - sk, fl + er)
except Exception:
    print(0, 1)
PY
)
echo "$p $f" > build/integration-$mode-totals
echo "integration ($mode): $p passed, $f failed"
exit $rc
