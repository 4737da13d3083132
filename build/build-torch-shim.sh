#!/usr/bin/env bash
# Builds gorai's libtorch shim, backends/torch/shim/torch_shim.cpp, into
# build/backends/torch/libgorai_torch.so: where the module looks for the TORCH backend by default
# (<BACKENDSPATH>/torch/libgorai_torch.so). The shim links Debian's libtorch (libtorch-dev 1.13); gorai.so
# does not, and opens the shim with dlopen only when a TORCH model is first used.
#
#   build/build-torch-shim.sh   build when a source is newer than the library
# (build/install-deps.sh system installs libtorch-dev.)
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=backends/torch/shim/torch_shim.cpp
HDR=backends/torch/shim/torch_shim.h
OUT=build/backends/torch/libgorai_torch.so
CXX=${CXX:-g++}

if [ ! -f /usr/include/torch/csrc/api/include/torch/version.h ]; then
    echo "build-torch-shim: libtorch-dev is not installed (build/install-deps.sh system); TORCH stays unavailable" >&2
    exit 1
fi

if [ -f "$OUT" ] && [ "$OUT" -nt "$SRC" ] && [ "$OUT" -nt "$HDR" ] && [ "$OUT" -nt "$0" ]; then
    exit 0
fi

mkdir -p "$(dirname "$OUT")"
echo "building $OUT"
# -Wl,--no-undefined: a symbol missing from libtorch fails here, not at dlopen inside redis-server.
# -fvisibility=hidden: the shim exports its C API (GORAI_TORCH_EXPORT) and nothing else.
"$CXX" -O2 -fPIC -shared -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 \
    -I/usr/include/torch/csrc/api/include -Wall -Wno-deprecated-declarations -Wno-unused-parameter \
    -fvisibility=hidden -fvisibility-inlines-hidden \
    -Wl,--no-undefined \
    -o "$OUT.tmp" "$SRC" \
    -ltorch -ltorch_cpu -lc10 -lstdc++
mv -f "$OUT.tmp" "$OUT"
