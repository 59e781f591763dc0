#!/usr/bin/env bash
# examples/mixed-storage/demo.sh — mixed storage, migration and backup with the `memgoose` CLI.
#
# Starts memgoosed with memgoosed.toml (four databases: memory cache, SQLite users, WiredTiger
# analytics, file logs) on ipc endpoints in a temporary directory, writes and reads each
# database, migrates the logs model file -> sqlite -> wiredtiger -> memory, backs up `users`
# under writes and restores it as `users_restored`, then stops the daemon.
#   usage: examples/mixed-storage/demo.sh [BUILD_DIR]      (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# The example config, with private endpoints and data dir.
sed -e "s|^bind = .*|bind = [\"ipc://$tmp/req.sock\"]|" -e "s|^pub = .*|pub = \"ipc://$tmp/pub.sock\"|" \
    -e "s|^data_dir = .*|data_dir = \"$tmp/data\"|" "$here/memgoosed.toml" > "$tmp/memgoosed.toml"
"$build/bin/memgoosed" --config "$tmp/memgoosed.toml" > "$tmp/daemon.log" 2>&1 &
pid=$!
mg() { "$build/bin/memgoose" --endpoint "ipc://$tmp/req.sock" "$@"; }
for _ in $(seq 100); do mg ping > /dev/null 2>&1 && break; sleep 0.1; done

echo "== databases"
mg hello
mg stats | head -c 400; echo

echo "== cache (memory)"
mg insert cache.Session '{"_id":"s1","user":"ada","ttl":3600}'
mg find cache.Session '{"user":"ada"}'

echo "== users (sqlite)"
mg insert users.User '[{"_id":1,"email":"ada@x.io","age":36},{"_id":2,"email":"alan@x.io","age":41}]'
mg update users.User '{"_id":2}' '{"$set":{"age":42}}'
mg find users.User '{"age":{"$gt":40}}'
mg count users.User

echo "== analytics (wiredtiger)"
for i in $(seq 1 5); do mg insert analytics.Event "{\"kind\":\"click\",\"n\":$i}" > /dev/null; done
mg aggregate analytics.Event '[{"$group":{"_id":"$kind","total":{"$sum":"$n"}}}]'

echo "== logs (file)"
for i in $(seq 1 2500); do echo "{\"level\":\"info\",\"i\":$i}"; done > "$tmp/logs.ndjson"
mg import logs.Line "$tmp/logs.ndjson"
mg count logs.Line '{"level":"info"}'
mg delete logs.Line '{"i":{"$lte":500}}' --many
mg count logs.Line

echo "== migrate logs.Line: file -> sqlite -> wiredtiger -> memory"
mg migrate logs.Line users.LogLine
mg migrate users.LogLine analytics --batch 500
mg migrate analytics.LogLine cache
mg count cache.LogLine

echo "== backup users under writes, restore as users_restored"
( for i in $(seq 100 300); do mg insert users.User "{\"_id\":$i,\"email\":\"u$i@x.io\"}" > /dev/null; done ) &
writer=$!
sleep 0.3
mg backup users nightly
wait "$writer"
mg createdb users_restored --from-backup nightly
echo "users now: $(mg count users.User), in the backup: $(mg count users_restored.User)"
ls "$tmp/data/_backups/nightly"

mg drop users_restored > /dev/null
echo "== done"
