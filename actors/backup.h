// actors/backup.h — online backup of a database and restore from a backup (the `backup` op and
// `createDatabase {fromBackup}`; docs/STORAGE.md, "Backup and restore").
//
// A backup of database D named N is the directory <data-dir>/_backups/N/, laid out like a
// database directory: D's catalog (memgoose.catalog.json: storage, options, every model and
// schema) and each model's files as its backend stores them (StorageStrategy::backup: SQLite's
// online backup API, a WiredTiger backup cursor, the file backend's snapshot and WAL), or, for
// backends with no files of their own (memory, plugins without a backup), a snapshot dump
// `<Model>.dump.ndjson` (one Extended JSON document a line).
//
// Consistency: every model copies itself inside its own actor, between two requests, after
// committing; so each model's copy holds exactly the writes acknowledged before its actor took
// the backup message — every write acknowledged before the `backup` request was sent — and
// nothing half-written. Other models (and the rest of the daemon) keep serving meanwhile; a
// model pauses only for its own copy. The directory is built under a temporary name and
// renamed into place last, so <data-dir>/_backups/N/ is either absent or complete.
#pragma once

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/reply_sink.h"
#include "core/collection.h"
#include "core/error.h"
#include "storage/catalog.h"
#include "storage/storage_strategy.h"

namespace mg {

// The directory under the data dir that holds every backup (a database cannot take its name).
constexpr const char* kBackupsDir = "_backups";
// The snapshot dump of one model: <dir>/<Model><kDumpSuffix>.
constexpr const char* kDumpSuffix = ".dump.ndjson";

// In the model's actor, after commit: copies `model` into `dir` (its backend's backup, or a
// snapshot dump). Returns the actor's answer for the backup's fan-out: an encoded map
// {name, schema, count, dump: bool}, or {error: message}.
std::string backup_model(Collection& c, const std::string& model, const std::string& dir);

struct BackupRequest {
  std::string data_dir, name;  // the backup's name (a valid name, CONTRACT.md §4)
  Catalog db;                  // the database's name, storage and options (models filled in)
  std::string reply_id;        // the request's raw `id`
};

// Starts a backup of the models `actors` of `req.db`. Immediate errors (BadValue for a name
// already taken, StorageError) are returned and nothing is started; otherwise the reply
// {backup, path, models: [{name, count}]} (or StorageError, the partial copy removed) goes to
// `sink` once every model has copied itself.
Status start_backup(caf::actor_system& sys, std::vector<caf::actor> actors, BackupRequest req,
                    std::shared_ptr<ReplySink> sink, Route route);

// The catalog of backup `name`: NamespaceNotFound when there is no such backup.
Result<Catalog> read_backup(const std::string& data_dir, const std::string& name);

// Wraps `inner` so that open() also loads the snapshot dump at `dump_path`: every document is
// given to open()'s sink and persisted through inner's apply() and commit() (a restore of a
// backend without files of its own).
std::unique_ptr<StorageStrategy> seeded_storage(std::unique_ptr<StorageStrategy> inner,
                                                std::string dump_path);

}  // namespace mg
