# Sourced by the fetch scripts that take libraries from pinned PyPI wheels (fetch-tensorflow.sh,
# fetch-litert.sh, fetch-torch.sh).
#
# wheel_setup SCRIPT WHAT defines die (messages prefixed with SCRIPT), sets $root (the repository) and
# $cache (build/cache, created), and stops unless the machine is Linux x86_64, the only platform the
# pinned wheels are for (WHAT names what is missing otherwise).
#
# fetch_wheel NAME SHA256 [PLATFORM] puts the wheel file NAME in $cache, checked against SHA256 (the
# "file sha256" PyPI shows). A wheel already in the cache is only checked, so later runs work offline.
# Otherwise it is fetched once with pip download, without dependencies: the distribution and version
# come from NAME, and the Python version (3.11) and platform are pinned so that every machine gets the
# same file, whatever its own Python is. PLATFORM defaults to NAME's last platform tag (pip matches
# --platform exactly). A download is checked in a scratch folder and only then moved into the cache.

die() {
    echo "$wheel_script: $*" >&2
    exit 1
}

wheel_setup() {
    local what=$2
    wheel_script=$1
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    cache=$root/build/cache
    case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) ;;
    *) die "no $what for $(uname -s)/$(uname -m): the pinned wheels are Linux x86_64 only" ;;
    esac
    mkdir -p "$cache" || die "cannot create $cache"
}

fetch_wheel() {
    local name=$1 sha=$2 platform=${3:-} wheel=$cache/$1 file=$cache/$1 got
    if [ ! -f "$wheel" ]; then
        local tags spec tmp
        tags=${name%.whl}
        spec=$(echo "$name" | cut -d- -f1)==$(echo "$name" | cut -d- -f2)
        command -v python3 >/dev/null || die "python3 (with pip) is needed once to fetch $spec"
        tmp=$(mktemp -d "$cache/pip.XXXXXX")
        if ! out=$(python3 -m pip download --quiet --no-deps --only-binary=:all: --no-cache-dir \
            --python-version 3.11 --platform "${platform:-${tags##*[-.]}}" "$spec" -d "$tmp" 2>&1); then
            rm -rf "$tmp"
            die "pip download $spec failed: $out"
        fi
        file=$tmp/$name
        if [ ! -f "$file" ]; then
            local got_files
            got_files=$(ls "$tmp")
            rm -rf "$tmp"
            die "pip download did not write $name: $got_files $out"
        fi
    fi
    got=$(sha256sum "$file" | cut -d' ' -f1)
    if [ "$file" = "$wheel" ]; then
        [ "$got" = "$sha" ] || die "$wheel has sha256 $got, expected $sha (delete it to fetch it again)"
        return
    fi
    tmp=$(dirname "$file")
    [ "$got" = "$sha" ] || { rm -rf "$tmp"; die "$name from PyPI has sha256 $got, expected $sha"; }
    mv "$file" "$wheel" && rm -rf "$tmp"
}
