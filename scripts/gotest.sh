#!/usr/bin/env bash
# go test with a closing summary: every test's result stays in the output,
# then one line "N passed, N failed, N skipped" and the failed names.
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -json "$@" | tee "$out" | python3 -u -c '
import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        print(line, end="")
        continue
    if e.get("Action") == "output":
        print(e["Output"], end="")
'
status=${PIPESTATUS[0]}
python3 - "$out" <<'PY'
import json, sys
res = {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("Test") and e.get("Action") in ("pass", "fail", "skip"):
        res[(e["Package"], e["Test"])] = e["Action"]
n = {a: sum(1 for v in res.values() if v == a) for a in ("pass", "fail", "skip")}
print(f"\n{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
for (pkg, test), a in sorted(res.items()):
    if a == "fail":
        print(f"FAILED {pkg} {test}")
PY
exit "$status"
