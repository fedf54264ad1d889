#!/usr/bin/env bash
# Builds the live oracle against one OpenSSL release and runs it.
#
#   oracles/run.sh VERSION [tlsrec-oracle arguments]
#
# VERSION is 1.1.1, 3.5 or 4.0 (built from the openssl-src crate's sources by
# oracles/openssl-build: static libraries, no-shared) or 3.0 (the system
# libssl through pkg-config, as `cargo test` uses). Everything is built under
# $CARGO_TARGET_DIR/oracles (default target/oracles), so the OpenSSL builds
# are made once and cached with the rest of the target folder. With no
# arguments after VERSION it only builds and prints the binary's path.
#
# The first run for 1.1.1, 3.5 or 4.0 builds all three OpenSSL releases in
# one cargo invocation, side by side, at -O0 (about 10 minutes on 2 cores;
# oracles/README.md). Each release's oracle program has its own target
# folder (one binary links one libssl); a new one starts as a copy of one
# already built, so tlsrec, serde_json and the rest compile once and only
# openssl-sys, openssl and the program itself are rebuilt.
#
# Examples:
#   oracles/run.sh 4.0 --cases 2000 --seed 5000000 --check --shrink
#   oracles/run.sh 1.1.1 --cases 40 --seed 7000000 --out vectors/openssl-1.1.1
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:?usage: oracles/run.sh 1.1.1|3.0|3.5|4.0 [tlsrec-oracle arguments]}"
shift
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
target="$target/oracles"
case "$version" in
    1.1.1 | 3.5 | 4.0) built=yes ;;
    3.0) built= ;;
    *) echo "unknown version $version (1.1.1, 3.0, 3.5, 4.0)" >&2; exit 2 ;;
esac
if [ -n "$built" ]; then
    # `cargo run` builds the three OpenSSL releases the first time (minutes)
    # and then only prints where VERSION's install folder is.
    dir="$(cargo run --quiet --release --manifest-path "$root/oracles/openssl-build/Cargo.toml" \
        --features v1_1_1,v3_5,v4_0 --target-dir "$target/openssl-build" -- "$version")"
    export OPENSSL_DIR="$dir" OPENSSL_STATIC=1
else
    unset OPENSSL_DIR OPENSSL_STATIC
fi
prog="$target/oracle-$version"
if [ ! -d "$prog/release" ]; then
    for other in "$target"/oracle-*; do
        if [ -d "$other/release" ]; then
            mkdir -p "$prog"
            cp -a "$other/." "$prog/"
            break
        fi
    done
fi
cargo build --quiet --release --manifest-path "$root/oracles/oracle/Cargo.toml" \
    --target-dir "$prog"
bin="$prog/release/tlsrec-oracle"
if [ $# -eq 0 ]; then
    echo "$bin"
else
    exec "$bin" "$@"
fi
