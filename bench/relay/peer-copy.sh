#!/usr/bin/env bash
# Copies the Kamailio harness (read-only in ../shared) to a writable folder once, because its
# setup-db.sh writes sipp/users.csv next to itself; prints the copy's path.
# usage: bench/relay/peer-copy.sh PEER_DIR DEST
set -euo pipefail
SRC=${1:?PEER_DIR}; DEST=${2:?DEST}
if [ ! -x "$DEST/run-kamailio.sh" ]; then
  rm -rf "$DEST"; mkdir -p "$(dirname "$DEST")"
  cp -r "$SRC" "$DEST"; chmod -R u+w "$DEST"
fi
echo "$DEST"
