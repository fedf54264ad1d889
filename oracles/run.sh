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
    1.1.1) feature=v1_1_1 ;;
    3.5) feature=v3_5 ;;
    4.0) feature=v4_0 ;;
    3.0) feature= ;;
    *) echo "unknown version $version (1.1.1, 3.0, 3.5, 4.0)" >&2; exit 2 ;;
esac
if [ -n "$feature" ]; then
    # `cargo run` builds OpenSSL the first time (minutes) and then only prints
    # where its install folder is.
    dir="$(cargo run --quiet --release --manifest-path "$root/oracles/openssl-build/Cargo.toml" \
        --features "$feature" --target-dir "$target/openssl-build")"
    export OPENSSL_DIR="$dir" OPENSSL_STATIC=1
else
    unset OPENSSL_DIR OPENSSL_STATIC
fi
cargo build --quiet --release --manifest-path "$root/oracles/oracle/Cargo.toml" \
    --target-dir "$target/oracle-$version"
bin="$target/oracle-$version/release/tlsrec-oracle"
if [ $# -eq 0 ]; then
    echo "$bin"
else
    exec "$bin" "$@"
fi
