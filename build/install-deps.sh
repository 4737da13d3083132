#!/usr/bin/env bash
# Installs what building and running gorai needs, when it is missing:
#   system  Debian packages: redis-server (the server the module loads into), libdlpack-dev (DLTensor),
#           gcc and g++ (cgo, the TORCH shim; libtorch itself comes from build/fetch-torch.sh)
#   python  the Python packages the client tests use (tests/requirements.txt)
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

case "${1:-system}" in
system) need_debs redis-server libdlpack-dev gcc g++ ;;
python)
    if ! python3 -c 'import smartredis, redisai, numpy, pytest' 2>/dev/null; then
        python3 -m pip install -q -r tests/requirements.txt
    fi
    ;;
*) echo "usage: $0 system|python" >&2; exit 2 ;;
esac
