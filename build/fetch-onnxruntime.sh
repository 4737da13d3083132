#!/usr/bin/env bash
# Puts the official ONNX Runtime shared library where gorai's ONNX backend looks for it:
#
#   build/fetch-onnxruntime.sh [destdir]   ->   <destdir>/onnx/libonnxruntime.so.1
#
# destdir defaults to build/backends, i.e. "<dir of gorai.so>/backends", the default BACKENDSPATH.
# The library comes from the onnxruntime-node npm package, which carries Microsoft's plain C library
# (it needs only libc, libstdc++, libm and libgcc_s). The package is fetched once into the ignored
# cache build/cache/ and checked against its pinned registry hash; later runs work offline and print
# nothing. Any failure says why and exits non-zero.
set -euo pipefail

VERSION=1.30.0
# The registry's dist.integrity of onnxruntime-node@1.30.0 (sha512, base64).
INTEGRITY=sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==

die() {
    echo "fetch-onnxruntime: $*" >&2
    exit 1
}

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/build/backends}
cache=$root/build/cache
tarball=$cache/onnxruntime-node-$VERSION.tgz

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) arch=x64 ;;
Linux/aarch64 | Linux/arm64) arch=arm64 ;;
*) die "no ONNX Runtime library for $(uname -s)/$(uname -m) in onnxruntime-node (Linux x86_64 and arm64 only)" ;;
esac
member=package/bin/napi-v6/linux/$arch/libonnxruntime.so.1
lib=$cache/onnxruntime-$VERSION-linux-$arch/libonnxruntime.so.1
target=$dest/onnx/libonnxruntime.so.1

integrity() { # the npm-style sha512 of a file
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

mkdir -p "$cache" || die "cannot create $cache"

if [ ! -f "$lib" ]; then
    if [ ! -f "$tarball" ]; then
        command -v npm >/dev/null || die "npm is needed once to fetch onnxruntime-node@$VERSION (apt-get install npm)"
        tmp=$(mktemp -d "$cache/npm.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        if ! out=$(cd "$tmp" && npm pack "onnxruntime-node@$VERSION" --pack-destination "$tmp" --loglevel=error 2>&1); then
            die "npm pack onnxruntime-node@$VERSION failed: $out"
        fi
        [ -f "$tmp/onnxruntime-node-$VERSION.tgz" ] || die "npm pack did not write onnxruntime-node-$VERSION.tgz: $out"
        got=$(integrity "$tmp/onnxruntime-node-$VERSION.tgz")
        [ "$got" = "$INTEGRITY" ] || die "onnxruntime-node-$VERSION.tgz has hash $got, expected $INTEGRITY"
        mv "$tmp/onnxruntime-node-$VERSION.tgz" "$tarball"
    else
        got=$(integrity "$tarball")
        [ "$got" = "$INTEGRITY" ] || die "$tarball has hash $got, expected $INTEGRITY (delete it to fetch again)"
    fi
    mkdir -p "$(dirname "$lib")"
    # Extract to a temporary name first, so that an interrupted run leaves no half file behind.
    tar -xzOf "$tarball" "$member" >"$lib.tmp" || die "cannot extract $member from $tarball"
    [ -s "$lib.tmp" ] || die "$member in $tarball is empty"
    mv "$lib.tmp" "$lib"
fi

if ! cmp -s "$lib" "$target" 2>/dev/null; then
    mkdir -p "$dest/onnx" || die "cannot create $dest/onnx"
    cp "$lib" "$target.tmp" || die "cannot write $target.tmp"
    mv "$target.tmp" "$target"
fi
