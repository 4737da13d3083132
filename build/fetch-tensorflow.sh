#!/usr/bin/env bash
# Puts TensorFlow's official C library where gorai's TF backend looks for it:
#
#   build/fetch-tensorflow.sh [destdir]   ->   <destdir>/tf/libtensorflow_cc.so.2
#                                              <destdir>/tf/libtensorflow_framework.so.2
#
# destdir defaults to build/backends, i.e. "<dir of gorai.so>/backends", the default BACKENDSPATH.
# The libraries come from the tensorflow-cpu wheel on PyPI: libtensorflow_cc.so.2 exports the TF C API
# (TF_NewSession, TF_SessionRun, ...) and finds libtensorflow_framework.so.2 beside it through its
# RUNPATH ($ORIGIN); both need only libc, libm, libdl, librt, libpthread, libstdc++ and libgcc_s. The
# wheel does not depend on the Python version for these two files, so one pinned wheel serves every
# machine. It is fetched once (pip download) into the ignored cache build/cache/ and checked against its
# pinned sha256; later runs work offline and print nothing. Any failure says why and exits non-zero.
# About 260 MB to download, 780 MB unpacked (the libraries, hard-linked from the cache when possible).
set -euo pipefail

VERSION=2.20.0
WHEEL=tensorflow_cpu-$VERSION-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
# sha256 of $WHEEL as PyPI serves it.
SHA256=cf756bbe2d256e942ab5d0ad2c858fb40017581494febdb4387c149b1afde780
LIBS=(libtensorflow_cc.so.2 libtensorflow_framework.so.2)

# wheel_setup and fetch_wheel (build/wheel.sh): die, $root and $cache; the pinned wheel in the cache,
# checked against its sha256.
. "$(dirname "$0")/wheel.sh"
wheel_setup fetch-tensorflow "TensorFlow C library"
dest=${1:-$root/build/backends}
wheel=$cache/$WHEEL
libdir=$cache/tensorflow-$VERSION-linux-x86_64

have_libs() {
    for l in "${LIBS[@]}"; do [ -s "$libdir/$l" ] || return 1; done
}

if ! have_libs; then
    command -v python3 >/dev/null || die "python3 is needed once to extract the libraries from tensorflow-cpu==$VERSION"
    fetch_wheel "$WHEEL" "$SHA256" manylinux_2_17_x86_64
    # Extracted into a scratch folder and checked there, so that an interrupted or failed run leaves no
    # library behind in the cache.
    stage=$(mktemp -d "$cache/tf-extract.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    python3 - "$wheel" "$stage" "${LIBS[@]}" <<'EOF2' || die "cannot extract the libraries from $wheel"
import shutil, sys, zipfile
wheel, stage, libs = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for lib in libs:
        with z.open("tensorflow/" + lib) as src, open(stage + "/" + lib, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
EOF2
    for l in "${LIBS[@]}"; do
        [ -s "$stage/$l" ] || die "tensorflow/$l in $wheel is empty"
    done
    # The C API must be exported, or gorai's loader would fail later inside redis-server.
    if command -v nm >/dev/null; then
        syms=$(nm -D --defined-only "$stage/libtensorflow_cc.so.2") || die "nm cannot read libtensorflow_cc.so.2 from $wheel"
        case "$syms" in
        *" T TF_NewSession"*) ;;
        *) die "libtensorflow_cc.so.2 from $wheel does not export the TF C API (no TF_NewSession)" ;;
        esac
    fi
    mkdir -p "$libdir" || die "cannot create $libdir"
    for l in "${LIBS[@]}"; do
        chmod 755 "$stage/$l"
        mv -f "$stage/$l" "$libdir/$l" || die "cannot write $libdir/$l"
    done
fi

mkdir -p "$dest/tf" || die "cannot create $dest/tf"
for l in "${LIBS[@]}"; do
    src=$libdir/$l
    target=$dest/tf/$l
    if [ "$src" -ef "$target" ] || cmp -s "$src" "$target" 2>/dev/null; then
        continue
    fi
    # A hard link costs no space (780 MB otherwise); a copy where the cache is on another file system.
    ln -f "$src" "$target.tmp" 2>/dev/null || cp "$src" "$target.tmp" || die "cannot write $target.tmp"
    mv -f "$target.tmp" "$target"
done
