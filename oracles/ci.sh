#!/usr/bin/env bash
# The live differential test against every OpenSSL version, for CI:
# builds OpenSSL 1.1.1w, 3.5.5 and 4.0.3 from the openssl-src crate's sources
# (once; cached under $CARGO_TARGET_DIR/oracles) and runs
# $TLSREC_ORACLE_CASES (default 300) scenarios against each and against the
# system 3.0 library, with a seed of $TLSREC_ORACLE_SEED (default 5000000).
#
# Versions in $TLSREC_ORACLE_MUST_AGREE (default "1.1.1 3.0") fail the run
# on any difference; the others print their differences and pass, until
# tlsrec has a profile for them (issue 14). A scenario the oracle itself
# cannot run fails the run for every version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cases="${TLSREC_ORACLE_CASES:-300}"
seed="${TLSREC_ORACLE_SEED:-5000000}"
must="${TLSREC_ORACLE_MUST_AGREE:-1.1.1 3.0}"
status=0
for v in 1.1.1 3.0 3.5 4.0; do
    echo "== OpenSSL $v"
    args=(--cases "$cases" --seed "$seed" --check)
    case " $must " in *" $v "*) args+=(--fail-on-difference) ;; esac
    start=$(date +%s)
    "$root/oracles/run.sh" "$v" "${args[@]}" || status=1
    echo "(OpenSSL $v: $(( $(date +%s) - start )) s with the build)"
done
exit $status
