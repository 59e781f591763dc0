#!/usr/bin/env bash
# Installs every Debian package memgoosed needs to build, test and benchmark (idempotent).
# Run as root (or with sudo available). Packages only: nothing is downloaded from elsewhere.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libcaf-dev libzmq3-dev cppzmq-dev libmsgpack-cxx-dev
  libsqlite3-dev sqlite3 libwiredtiger-dev wiredtiger libzstd-dev liblz4-dev
  libgoogle-perftools-dev libboost-test-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libre2-dev libabsl-dev
  rapidjson-dev libsystemd-dev
  python3 python3-zmq python3-msgpack python3-pytest
  redis-server redis-tools libhiredis-dev gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
