#!/usr/bin/env bash
# The live differential test against every OpenSSL version, for CI (.ci/run
# calls it last): builds OpenSSL 1.1.1w, 3.5.5 and 4.0.3 from the
# openssl-src crate's sources (once, all three in one cargo invocation;
# cached under $CARGO_TARGET_DIR/oracles) and, against each of them and the
# system 3.0 library, replays through tlsrec under that release's profile:
#   - $TLSREC_ORACLE_CASES (default 300) scenarios of the differential
#     test's families from seed $TLSREC_ORACLE_SEED (default 5000000);
#   - the ChangeCipherSpec probe (27 fixed scenarios, --probe-ccs).
# Versions in $TLSREC_ORACLE_MUST_AGREE (default all four) fail the run on
# any difference; the others print their differences and pass. A scenario
# the oracle itself cannot run fails the run for every version.
#
# The end-of-stream scenarios (--ends, the differential test's second test)
# run too, $TLSREC_ORACLE_END_CASES (default 300) per version, failing the
# run on a difference for the versions in $TLSREC_ORACLE_ENDS_MUST_AGREE
# (default all four).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cases="${TLSREC_ORACLE_CASES:-300}"
end_cases="${TLSREC_ORACLE_END_CASES:-300}"
seed="${TLSREC_ORACLE_SEED:-5000000}"
active_cases="${TLSREC_ORACLE_ACTIVE_CASES:-200}"
active_seed="${TLSREC_ORACLE_ACTIVE_SEED:-15000000}"
must="${TLSREC_ORACLE_MUST_AGREE:-1.1.1 3.0 3.5 4.0}"
ends_must="${TLSREC_ORACLE_ENDS_MUST_AGREE:-1.1.1 3.0 3.5 4.0}"
status=0
for v in 1.1.1 3.0 3.5 4.0; do
    echo "== OpenSSL $v"
    strict=()
    case " $must " in *" $v "*) strict=(--fail-on-difference) ;; esac
    start=$(date +%s)
    "$root/oracles/run.sh" "$v" --cases "$cases" --seed "$seed" --check "${strict[@]}" || status=1
    "$root/oracles/run.sh" "$v" --probe-ccs "${strict[@]}" | grep -E "differs|failed|of 27" || status=1
    if [ "$end_cases" -gt 0 ]; then
        strict=()
        case " $ends_must " in *" $v "*) strict=(--fail-on-difference) ;; esac
        "$root/oracles/run.sh" "$v" --ends --cases "$end_cases" --seed "$seed" --check "${strict[@]}" \
            | grep -E "^- |passed" | sed 's/^/end of stream: /' || status=1
    fi
    if [ "$active_cases" -gt 0 ]; then
        strict=()
        case " $must " in *" $v "*) strict=(--fail-on-difference) ;; esac
        "$root/oracles/run.sh" "$v" --active --cases "$active_cases" --seed "$active_seed" "${strict[@]}" \
            | grep -E "^- |^--active" || status=1
    fi
    echo "(OpenSSL $v: $(( $(date +%s) - start )) s, with any build)"
done
exit $status
