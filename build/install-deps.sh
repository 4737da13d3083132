#!/usr/bin/env bash
# Installs what building and running gorai needs, when it is missing:
#   system  Debian packages: redis-server (the server the module loads into), libdlpack-dev (DLTensor),
#           gcc and g++ (cgo, the TORCH shim; libtorch itself comes from build/fetch-torch.sh)
#   python  the Python packages the client tests use (tests/requirements.txt)
#   examples what `make examples` runs with: Debian's python3-torch and python3-venv, and the venv
#            build/venv-examples/ (--system-site-packages, to see that torch) holding SmartSim 0.8.0 set up
#            for gorai (docs/smartsim.md) and the packages of build/examples-requirements.txt. A stamp in
#            the venv records what it was made from; while it matches, later runs check it and return.
set -euo pipefail
cd "$(dirname "$0")/.."

need_debs() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "installing ${missing[*]}"
    $sudo apt-get update -qq
    # Keep the package from starting its own redis-server on 6379: make run starts ours.
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { $sudo rm -f /usr/sbin/policy-rc.d; exit 1; }
    $sudo rm -f /usr/sbin/policy-rc.d
}

# The venv of `make examples`, made again from scratch whenever build/examples-requirements.txt or this
# function's inputs change (the stamp).
setup_examples() {
    local venv=build/venv-examples req=build/examples-requirements.txt smartsim=smartsim==0.8.0
    # The tensorflow-cpu wheel build/fetch-tensorflow.sh keeps (make build runs it first): installed from
    # there when present rather than downloaded again.
    local tfwheel=build/cache/tensorflow_cpu-2.20.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
    local stamp
    stamp="$(sha256sum "$req" | cut -d' ' -f1) $smartsim wrapper-1"
    need_debs python3-venv python3-torch redis-server
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.gorai-stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    echo "setting up $venv (SmartSim, SmartRedis, TensorFlow, scikit-learn; a minute or two, once)"
    rm -rf "$venv"
    # --system-site-packages: Debian's torch (python3-torch). The torch wheel on PyPI needs the CUDA
    # runtime wheels, gigabytes, just to be imported.
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    local pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
    [ -f "$tfwheel" ] && "${pip[@]}" --no-deps "$tfwheel"
    "${pip[@]}" -r "$req"
    # Without its requirements: SmartSim's protobuf<=3.20.3 would downgrade TensorFlow's
    # (docs/smartsim.md); the others are in $req.
    "${pip[@]}" --no-deps "$smartsim"
    # SmartSim looks for its server in smartsim/_core/bin and resolves symbolic links before running it;
    # Debian's /usr/bin/redis-server is a link to redis-check-rdb, so a wrapper script, not a link
    # (docs/smartsim.md, section 3).
    local bin
    bin=$("$venv/bin/python" -c 'import os, smartsim; print(os.path.join(os.path.dirname(smartsim.__file__), "_core", "bin"))')
    mkdir -p "$bin"
    printf '#!/bin/sh\nexec /usr/bin/redis-server "$@"\n' >"$bin/redis-server"
    chmod +x "$bin/redis-server"
    ln -sf /usr/bin/redis-cli "$bin/redis-cli"
    "$venv/bin/python" -c 'import smartsim, smartredis, torch, sklearn, skl2onnx, onnx, tensorflow' 2>/dev/null ||
        { echo "$venv: an import failed:" >&2; "$venv/bin/python" -c 'import smartsim, smartredis, torch, sklearn, skl2onnx, onnx, tensorflow'; exit 1; }
    echo "$stamp" >"$venv/.gorai-stamp"
}

case "${1:-system}" in
system) need_debs redis-server libdlpack-dev gcc g++ ;;
python)
    # Every time, not only when an import fails: a package installed since (onnx pulls numpy 2) can
    # have replaced a pinned version, which redisai-py 1.3.0 cannot use. A no-op when all are met.
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt
    ;;
examples) setup_examples ;;
*) echo "usage: $0 system|python|examples" >&2; exit 2 ;;
esac
