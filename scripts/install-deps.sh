#!/usr/bin/env bash
# Install the Debian packages Tern needs to build, run and test.
# Runs apt-get only when something is missing; uses sudo when not root.
set -euo pipefail
pkgs=(gcc make libc6-dev libssl-dev libsqlite3-dev libcrypt-dev libcmocka-dev
      libevent-dev libc-ares-dev dnsmasq-base python3 python3-pytest openssl clang swaks msmtp fetchmail libclang-rt-14-dev sqlite3 groff-base)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
