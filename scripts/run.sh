#!/usr/bin/env bash
# The run command: installs what is missing, builds, and starts memgoosed in the foreground on
# its embedded defaults — memory storage, requests on tcp://127.0.0.1:7377, change stream on
# tcp://127.0.0.1:7378, data dir ./data. Extra arguments go to memgoosed (see --help).
# GLIBC_TUNABLES as the systemd unit sets it: glibc's malloc on transparent huge pages when
# memgoosed is built with -DMG_ALLOCATOR=system; the default tcmalloc build ignores it (README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec env GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}" build/bin/memgoosed "$@"
