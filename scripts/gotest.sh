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
res, took = {}, {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("Action") in ("pass", "fail", "skip"):
        key = (e["Package"], e.get("Test", ""))
        if e.get("Test"):
            res[key] = e["Action"]
        if "/" not in key[1]:
            took[key] = e.get("Elapsed", 0)
n = {a: sum(1 for v in res.values() if v == a) for a in ("pass", "fail", "skip")}
# Where the time went: the slowest packages and top-level tests.
pkgs = sorted(((s, k[0]) for k, s in took.items() if not k[1]), reverse=True)[:8]
tests = sorted(((s, k) for k, s in took.items() if k[1]), reverse=True)[:8]
print("\nslowest packages: " + ", ".join(f"{p.rsplit('/', 1)[-1]} {s:.0f}s" for s, p in pkgs))
print("slowest tests: " + ", ".join(f"{t} {s:.0f}s" for s, (_, t) in tests))
print(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
for (pkg, test), a in sorted(res.items()):
    if a == "fail":
        print(f"FAILED {pkg} {test}")
PY
exit "$status"
