#!/usr/bin/env bash
# run-one.sh TEST: run one integration test; print PASS/FAIL, keep its output only on failure.
set -u
name=$(basename "$1" .sh)
out=$(mktemp)
start=$SECONDS
if bash "$1" >"$out" 2>&1; then
    echo "PASS $name ($((SECONDS - start))s)"
    rm -f "$out"
    exit 0
fi
echo "FAIL $name ($((SECONDS - start))s)"
cat "$out"
rm -f "$out"
exit 1
