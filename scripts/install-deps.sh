#!/bin/sh
# install-deps.sh — installs the Debian packages Baton's build and tests need.
# Called by `make run`, `make test` and .ci/run. Idempotent: when every package is
# already installed it does nothing (and needs no network). Runs apt-get as root, or
# through sudo otherwise.
set -eu

PACKAGES="build-essential cmake ninja-build pkg-config clang clang-format-14 \
libjansson-dev libcmocka-dev libssl-dev libuv1-dev libsqlite3-dev \
libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev libyaml-dev libpcre2-dev \
python3-boto3 awscli python3-aiosmtpd chromium chromium-driver python3-selenium \
libclang-rt-14-dev python3"
# chromium, chromium-driver and python3-selenium: the approval pages clicked through in a
# headless browser (tests/integration/test_browser.py).

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# Node.js runs the functions of runtime nodejs (and the case study's); npm fetches their AWS
# SDK packages. Any node and npm on PATH will do (a newer Node than Debian's, say), so
# Debian's packages are added only when there is none.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "install-deps: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
