// actors/registry.h — the databases of a daemon and the actors of their models.
//
// Used only by the front door's thread (no locks): it routes each request to its model's
// actor, spawning the actor on the first write or defineModel (CONTRACT.md §5: a write to an
// undefined model creates it), and handles createDatabase / dropDatabase / listDatabases.
// The database `default` (memory) always exists.
#pragma once

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/database_actor.h"
#include "actors/reply_sink.h"
#include "core/error.h"
#include "core/msgpack.h"
#include "storage/catalog.h"
#include "storage/engine.h"

namespace mg {

struct ModelRef {
  caf::actor actor;
  InflightCounter inflight;
};

class Registry {
 public:
  // `sink` is the registry's owner (the front door): held weakly, since the owner holds the
  // registry (a shared_ptr here would be a cycle that keeps both alive past shutdown). Each
  // model actor gets a strong reference, so the sink outlives the actors that post to it.
  Registry(caf::actor_system& sys, std::weak_ptr<ReplySink> sink, std::string data_dir,
           size_t change_log_size = 100000);

  // The storages this build offers ("memory", ...), for `hello`.
  static std::vector<std::string> storages();
  // The compressors that really work in this build, over every storage (`hello`).
  static std::vector<std::string> compressors();

  // Reopens every persistent database found under the data dir (those with a catalog), with
  // their models and schemas, and waits until every model has loaded. Returns the first
  // failure (StorageError naming the database, model and file) — start-up then stops.
  Status recover();

  // createDatabase: {created: true} for a new name, false for the same config again,
  // InvalidOptions for a different config, an unknown storage or bad options.
  Result<bool> create_database(std::string_view name, std::string_view storage, MpView options);
  // createDatabase {fromBackup}: a new database `name` from backup `backup` (actors/backup.h):
  // its files copied into <data-dir>/<name>/ (or, for a dump, loaded into the models), its
  // models and schemas as backed up. NamespaceNotFound for an unknown backup, BadValue when
  // `name` exists, InvalidOptions when `storage` (if not empty) or `options` (if given)
  // differ from the backup's.
  Result<bool> restore_database(std::string_view name, std::string_view storage, MpView options,
                                std::string_view backup);
  // The database's name, storage and options (models left empty); NamespaceNotFound if absent.
  Result<Catalog> describe(std::string_view name) const;
  const std::string& data_dir() const { return data_dir_; }
  // dropDatabase: BadValue for `default`, NamespaceNotFound for an unknown name.
  Status drop_database(std::string_view name);
  bool has_database(std::string_view name) const;
  // {databases: [{name, storage, options}]} value (an encoded array).
  std::string list_databases() const;

  // The model's actor, spawned when absent and `create`; nullptr when absent and !create.
  // The database must exist.
  ModelRef* model(std::string_view db, std::string_view model, bool create);
  std::vector<caf::actor> model_actors(std::string_view db) const;  // "" = all
  std::vector<std::pair<std::string, std::vector<caf::actor>>> all_models() const;

  // Asks every actor to stop (shutdown); the caller then awaits the actor system.
  void shutdown();

 private:
  struct Database {
    DatabaseConfig cfg;
    caf::actor actor;
    std::shared_ptr<StorageEngine> engine;
    std::map<std::string, ModelRef, std::less<>> models;
  };
  Result<bool> open_database(std::string_view name, std::string_view storage, MpView options,
                             const Catalog* found, const std::string& seed_dir = {});
  ModelRef& spawn_model(Database& d, std::string_view model, const std::string& schema, bool exists,
                        const std::string& seed_dir = {});
  caf::actor_system& sys_;
  std::weak_ptr<ReplySink> sink_;
  std::string data_dir_;
  size_t change_log_size_;
  std::map<std::string, Database, std::less<>> dbs_;
};

}  // namespace mg
