#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $1 (default 10s) each. go test
# -fuzz takes one target of one package at a time, so they are found here.
# A crasher lands in the package's testdata/fuzz/<Target>/ and stays there as
# a regression case once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-10s}
status=0
while IFS=: read -r file target; do
  pkg=./$(dirname "$file")
  echo "fuzz: $pkg $target for $time"
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg" || status=1
done < <(grep -rho --include='*_test.go' -H '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func /:/' | sort)
exit $status
