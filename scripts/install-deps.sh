#!/usr/bin/env bash
# Installs the Debian 12 packages enoki needs to build, test and run its demo. Idempotent: does
# nothing (and needs no network) when everything is already installed. Run as root, or with sudo.
set -euo pipefail

PACKAGES=(
    build-essential pkg-config
    libmicrohttpd-dev librabbitmq-dev libjansson-dev libuv1-dev libyaml-dev check
    libwebsockets-dev libwebsockets-evlib-uv libssl-dev zlib1g-dev
    rabbitmq-server
    python3 python3-pika python3-pytest python3-pytest-xdist python3-werkzeug python3-websocket
    python3-jwt python3-cryptography python3-prometheus-client
    curl valgrind procps wrk strace clang-format
    clang libclang-rt-14-dev
    chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# Node.js for the browser test: the machine's own when it has one, else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
