#!/usr/bin/env bash
# Puts libtorch's CPU libraries where gorai's TORCH shim finds them, and its headers in the cache:
#
#   build/fetch-torch.sh [destdir]   ->   <destdir>/torch/libtorch_cpu.so, libc10.so, libgomp.so.1,
#                                                       libcudart.so.13, libcupti.so.13
#   build/fetch-torch.sh --prefix    prints the cache folder whose include/ and lib/ the shim builds against
#
# destdir defaults to build/backends, i.e. "<dir of gorai.so>/backends", the default BACKENDSPATH.
# libtorch comes from the official torch wheel on PyPI (its libraries do not depend on the Python version).
# Only the CPU part is taken: libtorch.so would need libtorch_cuda.so (520 MB) and the CUDA stack, while
# libtorch_cpu.so needs only libc10.so, the wheel's libgomp.so.1, and CUDA's runtime and profiler
# libraries, which it links even when it never uses a GPU; those two come from their own small NVIDIA
# wheels, in the versions the torch wheel requires (cuda-toolkit 13.2.2 -> 13.2.86). libtorch_cpu.so
# finds them beside itself through its RPATH ($ORIGIN). The three wheels are fetched once (pip download,
# without their dependencies) into the ignored cache build/cache/ and checked against their pinned
# sha256; later runs work offline and print nothing. Any failure says why and exits non-zero.
# About 555 MB to download, 465 MB of libraries (hard-linked from the cache when possible) and 40 MB of
# headers.
set -euo pipefail

VERSION=2.15.0
CUDA_VERSION=13.2.86
# "file sha256" of each wheel as PyPI serves it.
WHEELS=(
    "torch-$VERSION-cp311-cp311-manylinux_2_28_x86_64.whl 48c2d861134c0b5697c7602cb5ffa68f62a2989fdcd1717e593356f67996ca1e"
    "nvidia_cuda_runtime-$CUDA_VERSION-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 3498247680dfddce31bad102af7e3e26fc795342a3cac64722bb0fa95e7f60f0"
    "nvidia_cuda_cupti-$CUDA_VERSION-py3-none-manylinux_2_25_x86_64.whl 8fa29f15dd8336181f961764d9d95236fc6b931dd0c8fcf8cd70aab0c310b586"
)
# "member of a wheel -> file of lib/" for every library the shim needs at run time.
LIBS=(
    torch/lib/libtorch_cpu.so
    torch/lib/libc10.so
    torch/lib/libgomp.so.1
    nvidia/cu13/lib/libcudart.so.13
    nvidia/cu13/lib/libcupti.so.13
)

# wheel_setup and fetch_wheel (build/wheel.sh): die, $root and $cache; each pinned wheel in the cache,
# checked against its sha256.
. "$(dirname "$0")/wheel.sh"
wheel_setup fetch-torch libtorch
prefix=$cache/libtorch-$VERSION-cpu-linux-x86_64

have_prefix() {
    [ -s "$prefix/include/torch/csrc/api/include/torch/version.h" ] || return 1
    for l in "${LIBS[@]}"; do [ -s "$prefix/lib/$(basename "$l")" ] || return 1; done
}

if ! have_prefix; then
    stage=$(mktemp -d "$cache/torch-extract.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    wheels=()
    for w in "${WHEELS[@]}"; do
        read -r name sha <<<"$w"
        fetch_wheel "$name" "$sha"
        wheels+=("$cache/$name")
    done
    # Extracted into a scratch folder and checked there, so that an interrupted or failed run leaves no
    # half-written prefix behind in the cache.
    python3 - "$stage" "${wheels[@]}" -- "${LIBS[@]}" <<'EOF2' || die "cannot extract libtorch from the wheels"
import os, shutil, sys
import zipfile

args = sys.argv[1:]
stage, wheels, libs = args[0], args[1:args.index("--")], set(args[args.index("--") + 1:])
os.makedirs(stage + "/lib")
for wheel in wheels:
    with zipfile.ZipFile(wheel) as z:
        for m in z.infolist():
            if m.filename in libs:
                dst = stage + "/lib/" + os.path.basename(m.filename)
                libs.discard(m.filename)
            elif m.filename.startswith("torch/include/") and not m.is_dir():
                dst = stage + "/include/" + m.filename[len("torch/include/"):]
            else:
                continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with z.open(m) as src, open(dst, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
if libs:
    sys.exit("missing from the wheels: " + " ".join(sorted(libs)))
EOF2
    chmod 755 "$stage" "$stage"/lib/*
    rm -rf "$prefix"
    mv "$stage" "$prefix" || die "cannot write $prefix"
    trap - EXIT
fi

if [ "${1:-}" = --prefix ]; then
    echo "$prefix"
    exit 0
fi

dest=${1:-$root/build/backends}
mkdir -p "$dest/torch" || die "cannot create $dest/torch"
for l in "${LIBS[@]}"; do
    src=$prefix/lib/$(basename "$l")
    target=$dest/torch/$(basename "$l")
    if [ "$src" -ef "$target" ] || cmp -s "$src" "$target" 2>/dev/null; then
        continue
    fi
    # A hard link costs no space (465 MB otherwise); a copy where the cache is on another file system.
    ln -f "$src" "$target.tmp" 2>/dev/null || cp "$src" "$target.tmp" || die "cannot write $target.tmp"
    mv -f "$target.tmp" "$target"
done
