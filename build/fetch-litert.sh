#!/usr/bin/env bash
# Puts LiteRT's C library (TensorFlow Lite's successor) where gorai's TFLITE backend looks for it:
#
#   build/fetch-litert.sh [destdir]   ->   <destdir>/tflite/libLiteRt.so
#                                          <destdir>/tflite/VERSION
#
# destdir defaults to build/backends, i.e. "<dir of gorai.so>/backends", the default BACKENDSPATH.
# The library comes from the official ai-edge-litert wheel on PyPI: ai_edge_litert/libLiteRt.so exports
# LiteRT's C API (LiteRtCreateModelFromBuffer, LiteRtCreateCompiledModel, LiteRtRunCompiledModel, ...) and
# needs only libc, libm, libdl, librt, libpthread, libstdc++ and libgcc_s; the wheel's Python version does
# not matter for it. The library exports no version function, so VERSION beside it records the wheel's
# (INFO's ai_TensorFlowLite_version). The wheel is fetched once (pip download) into the ignored cache
# build/cache/ and checked against its pinned sha256; later runs work offline and print nothing. Any
# failure says why and exits non-zero. About 22 MB to download, 8 MB unpacked.
set -euo pipefail

VERSION=2.3.0
WHEEL=ai_edge_litert-$VERSION-cp311-cp311-manylinux_2_27_x86_64.whl
# sha256 of $WHEEL as PyPI serves it.
SHA256=1f15078a6725d2357d9de9221664c29afa0545d807559c5f7199ce5e40b96b23
LIB=libLiteRt.so

# wheel_setup and fetch_wheel (build/wheel.sh): die, $root and $cache; the pinned wheel in the cache,
# checked against its sha256.
. "$(dirname "$0")/wheel.sh"
wheel_setup fetch-litert "LiteRT C library"
dest=${1:-$root/build/backends}
wheel=$cache/$WHEEL
libdir=$cache/litert-$VERSION-linux-x86_64

if [ ! -s "$libdir/$LIB" ]; then
    command -v python3 >/dev/null || die "python3 is needed once to extract $LIB from ai-edge-litert==$VERSION"
    fetch_wheel "$WHEEL" "$SHA256"
    # Extracted into a scratch folder and checked there, so that a failed run leaves no library in the cache.
    stage=$(mktemp -d "$cache/litert-extract.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    python3 - "$wheel" "$stage/$LIB" <<'EOF2' || die "cannot extract $LIB from $wheel"
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("ai_edge_litert/libLiteRt.so") as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF2
    [ -s "$stage/$LIB" ] || die "ai_edge_litert/$LIB in $wheel is empty"
    # The C API must be exported, or gorai's loader would fail later inside redis-server.
    if command -v nm >/dev/null; then
        syms=$(nm -D --defined-only "$stage/$LIB") || die "nm cannot read $LIB from $wheel"
        case "$syms" in
        *" T LiteRtCreateCompiledModel"*) ;;
        *) die "$LIB from $wheel does not export LiteRT's C API (no LiteRtCreateCompiledModel)" ;;
        esac
    fi
    mkdir -p "$libdir" || die "cannot create $libdir"
    chmod 755 "$stage/$LIB"
    mv -f "$stage/$LIB" "$libdir/$LIB" || die "cannot write $libdir/$LIB"
fi

mkdir -p "$dest/tflite" || die "cannot create $dest/tflite"
target=$dest/tflite/$LIB
if ! cmp -s "$libdir/$LIB" "$target" 2>/dev/null; then
    cp "$libdir/$LIB" "$target.tmp" || die "cannot write $target.tmp"
    mv -f "$target.tmp" "$target"
fi
if [ "$(cat "$dest/tflite/VERSION" 2>/dev/null)" != "$VERSION" ]; then
    echo "$VERSION" >"$dest/tflite/VERSION.tmp" && mv -f "$dest/tflite/VERSION.tmp" "$dest/tflite/VERSION" ||
        die "cannot write $dest/tflite/VERSION"
fi
