#!/usr/bin/env bash
# Builds gorai's libtorch shim, backends/torch/shim/torch_shim.cpp, into
# build/backends/torch/libgorai_torch.so: where the module looks for the TORCH backend by default
# (<BACKENDSPATH>/torch/libgorai_torch.so). The shim links the CPU libraries of the official torch wheel,
# which build/fetch-torch.sh (run first, here) puts beside it; its RUNPATH ($ORIGIN) finds them there.
# Neither gorai.so nor gorai_go.so links the shim: the Go library opens it with dlopen only when a TORCH model is first used.
#
#   build/build-torch-shim.sh   fetch libtorch if needed; build when a source is newer than the library
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=backends/torch/shim/torch_shim.cpp
HDR=backends/torch/torch_shim.h
# How much memory is left, for libtorch's large allocations (the tensor package's C, shared with the module).
MEMORY=tensor/memory.c
MEMORY_HDR=tensor/tensor.h
FETCH=build/fetch-torch.sh
OUT=build/backends/torch/libgorai_torch.so
CXX=${CXX:-g++}

"$FETCH"
prefix=$("$FETCH" --prefix)

if [ -f "$OUT" ] && [ "$OUT" -nt "$SRC" ] && [ "$OUT" -nt "$HDR" ] && [ "$OUT" -nt "$MEMORY" ] && [ "$OUT" -nt "$MEMORY_HDR" ] \
    && [ "$OUT" -nt "$0" ] && [ "$OUT" -nt "$FETCH" ]; then
    exit 0
fi

# The shim passes std::string across libtorch's API, so it must use the C++ ABI libtorch was built with
# (torch wheels from 2.7 on use the new one, older ones the pre-C++11 one).
# (grep reads all of nm's output: with -q, nm could die of SIGPIPE and pipefail would fail the test.)
abi=0
if nm -D --defined-only "$prefix/lib/libc10.so" | grep __cxx11 >/dev/null; then abi=1; fi

mkdir -p "$(dirname "$OUT")"
echo "building $OUT"
"${CC:-cc}" -O2 -fPIC -fvisibility=hidden -Wall -Wextra -Itensor -c "$MEMORY" -o "$OUT.memory.o"
# -Wl,--no-undefined: a symbol missing from libtorch fails here, not at dlopen inside redis-server.
# -fvisibility=hidden: the shim exports its C API (GORAI_TORCH_EXPORT) and nothing else.
# Only libtorch_cpu and libc10: libtorch.so, the wheel's umbrella library, needs libtorch_cuda.so.
"$CXX" -O2 -fPIC -shared -std=c++20 -D_GLIBCXX_USE_CXX11_ABI=$abi \
    -isystem "$prefix/include" -isystem "$prefix/include/torch/csrc/api/include" \
    -Wall -Wno-deprecated-declarations -Wno-unused-parameter \
    -fvisibility=hidden -fvisibility-inlines-hidden \
    -Wl,--no-undefined -Wl,-rpath,'$ORIGIN' \
    -Itensor -o "$OUT.tmp" "$SRC" "$OUT.memory.o" \
    -L"$prefix/lib" -ltorch_cpu -lc10 -lstdc++
rm -f "$OUT.memory.o"
mv -f "$OUT.tmp" "$OUT"
