#include "actors/registry.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "actors/backup.h"
#include "actors/messages.h"
#include "actors/model_actor.h"
#include "core/compare.h"
#include "core/ejson.h"
#include "protocol/envelope.h"
#include "storage/backup_files.h"

namespace mg {

Registry::Registry(caf::actor_system& sys, std::weak_ptr<ReplySink> sink, std::string data_dir,
                   size_t change_log_size)
    : sys_(sys),
      sink_(std::move(sink)),
      data_dir_(std::move(data_dir)),
      change_log_size_(change_log_size) {
  std::string empty_map("\x80", 1);
  (void)create_database("default", "memory", MpView(empty_map));
}

std::vector<std::string> Registry::storages() {
  std::vector<std::string> out;
  for (auto& k : storage_kinds()) out.push_back(k.name);
  return out;
}

std::vector<std::string> Registry::compressors() {
  std::vector<std::string> out;
  for (auto& k : storage_kinds())
    for (auto& c : k.compressors)
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  return out;
}

Result<bool> Registry::create_database(std::string_view name, std::string_view storage,
                                       MpView options) {
  return open_database(name, storage, options, nullptr);
}

// createDatabase, or (with `found`) reopening a database from its catalog at start-up.
Result<bool> Registry::open_database(std::string_view name, std::string_view storage,
                                     MpView options, const Catalog* found,
                                     const std::string& seed_dir) {
  if (!valid_name(name))
    return make_status(ErrorCode::BadValue,
                       "invalid database name '" + std::string(name.substr(0, 80)) +
                           "': names must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
  if (name == kBackupsDir)
    return make_status(ErrorCode::BadValue, "the database name '" + std::string(kBackupsDir) +
                                                "' is reserved (it holds the backups)");
  if (options.valid() && options.type() != MpType::Map && options.type() != MpType::Nil)
    return make_status(ErrorCode::TypeMismatch, "'options' must be a map");
  const StorageKind* kind = find_storage_kind(storage);
  if (!kind) {
    std::string list;
    for (auto& n : storages()) list += (list.empty() ? "" : ", ") + n;
    return make_status(
        ErrorCode::InvalidOptions,
        "storage '" + std::string(storage) + "' is not available (this build has: " + list + ")");
  }
  Result<std::string> opts = kind->normalize(options);
  if (!opts.ok()) return opts.status();
  auto it = dbs_.find(name);
  if (it != dbs_.end()) {
    const DatabaseConfig& cur = it->second.cfg;
    if (cur.storage == storage && compare_values(MpView(cur.options), MpView(opts.value())) == 0)
      return false;
    return make_status(ErrorCode::InvalidOptions, "database '" + std::string(name) +
                                                      "' exists with storage '" + cur.storage +
                                                      "' and options " + json_from_mp(cur.options));
  }
  Database db;
  db.cfg = DatabaseConfig{std::string(name), std::string(storage), opts.value(), {}};
  Catalog catalog = found ? *found : Catalog{db.cfg.name, db.cfg.storage, db.cfg.options, {}};
  if (kind->persistent) {
    db.cfg.dir = data_dir_ + "/" + db.cfg.name;
    std::error_code ec;
    std::filesystem::create_directories(db.cfg.dir, ec);
    if (ec)
      return make_status(ErrorCode::StorageError,
                         "cannot create " + db.cfg.dir + ": " + ec.message());
  }
  // The engine first: it may find the directory held by another process (wiredtiger), and
  // then the catalog there is that process's and must not be overwritten.
  auto engine = kind->open(db.cfg.dir, MpView(db.cfg.options));
  if (!engine.ok()) return engine.status();
  if (kind->persistent && !found) {
    Status s = write_catalog(db.cfg.dir, catalog);
    if (!s.ok()) return s;
  }
  db.engine = engine.value();
  db.actor = spawn_database_actor(sys_, db.cfg, catalog);
  Database& stored = dbs_.emplace(std::string(name), std::move(db)).first->second;
  for (auto& m : catalog.models) spawn_model(stored, m.name, m.schema, true, seed_dir);
  return true;
}

Result<bool> Registry::restore_database(std::string_view name, std::string_view storage,
                                        MpView options, std::string_view backup) {
  namespace fs = std::filesystem;
  if (!valid_name(name) || !valid_name(backup))
    return make_status(ErrorCode::BadValue,
                       "invalid database or backup name: names must match "
                       "^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
  if (dbs_.count(name))
    return make_status(ErrorCode::BadValue, "database '" + std::string(name) +
                                                "' exists: drop it before restoring into it");
  auto found = read_backup(data_dir_, std::string(backup));
  if (!found.ok()) return found.status();
  Catalog c = found.value();
  c.name = std::string(name);
  const StorageKind* kind = find_storage_kind(c.storage);
  if (!kind)
    return make_status(ErrorCode::InvalidOptions, "backup '" + std::string(backup) +
                                                      "' is of storage '" + c.storage +
                                                      "', not available in this build");
  if (!storage.empty() && storage != c.storage)
    return make_status(ErrorCode::InvalidOptions, "backup '" + std::string(backup) +
                                                      "' is of storage '" + c.storage + "', not '" +
                                                      std::string(storage) + "'");
  if (options.valid() && options.type() == MpType::Map) {
    Result<std::string> opts = kind->normalize(options);
    if (!opts.ok()) return opts.status();
    if (compare_values(MpView(opts.value()), MpView(c.options)) != 0)
      return make_status(ErrorCode::InvalidOptions, "backup '" + std::string(backup) +
                                                        "' has options " + json_from_mp(c.options) +
                                                        " (omit 'options' to take them)");
  }
  std::string src = data_dir_ + "/" + kBackupsDir + "/" + std::string(backup);
  if (kind->persistent) {
    std::string dir = data_dir_ + "/" + c.name;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
      return make_status(ErrorCode::StorageError,
                         "cannot restore into " + dir + ": the directory exists and is not empty");
    fs::remove(dir, ec);
    std::string tmp = data_dir_ + "/." + c.name + ".restore-" +
                      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    Status s = copy_tree_synced(src, tmp);
    if (s.ok()) s = write_catalog(tmp, c);
    if (s.ok()) {
      fs::rename(tmp, dir, ec);
      if (ec)
        s = make_status(ErrorCode::StorageError, "cannot rename " + tmp + ": " + ec.message());
    }
    if (s.ok()) s = sync_directory(data_dir_);
    if (!s.ok()) {
      fs::remove_all(tmp, ec);
      return s;
    }
  }
  auto r = open_database(c.name, c.storage, MpView(c.options), &c, src);
  if (!r.ok()) return r.status();
  return true;
}

Result<Catalog> Registry::describe(std::string_view name) const {
  auto it = dbs_.find(name);
  if (it == dbs_.end())
    return make_status(ErrorCode::NamespaceNotFound,
                       "database '" + std::string(name) + "' does not exist");
  return Catalog{it->second.cfg.name, it->second.cfg.storage, it->second.cfg.options, {}};
}

Status Registry::recover() {
  std::error_code ec;
  std::vector<std::string> dirs;
  for (auto& e : std::filesystem::directory_iterator(data_dir_, ec))
    if (e.is_directory() && has_catalog(e.path().string())) dirs.push_back(e.path().string());
  std::sort(dirs.begin(), dirs.end());
  for (auto& dir : dirs) {
    auto c = read_catalog(dir);
    if (!c.ok()) return c.status();
    auto r = open_database(c->name, c->storage, MpView(c->options), &c.value());
    if (!r.ok()) return make_status(r.status().code, "database " + dir + ": " + r.status().message);
  }
  caf::scoped_actor self{sys_};
  Status first;
  for (auto& a : model_actors("")) {
    self->request(a, std::chrono::minutes(10), opened_atom::value)
        .receive(
            [&](const std::string& err) {
              if (!err.empty() && first.ok()) first = make_status(ErrorCode::StorageError, err);
            },
            [&](caf::error& e) {
              if (first.ok()) first = make_status(ErrorCode::StorageError, to_string(e));
            });
  }
  return first;
}

Status Registry::drop_database(std::string_view name) {
  if (name == "default")
    return make_status(ErrorCode::BadValue, "the database 'default' cannot be dropped");
  auto it = dbs_.find(name);
  if (it == dbs_.end())
    return make_status(ErrorCode::NamespaceNotFound,
                       "database '" + std::string(name) + "' does not exist");
  Database& d = it->second;
  // First every model actor drops, behind the requests this thread already sent it: it
  // commits (answering those), closes its storage and removes its files, and ends. Only then
  // may the directory move: a storage still open under it wrote into the moved or removed
  // directory (WiredTiger's final checkpoint panicked on the vanished home and never freed
  // the connection, ~32 MB a model; SQLite's close unlinks its -wal by path, which could be a
  // new database's of the same name). They close in parallel; the front door waits for them.
  caf::scoped_actor self{sys_};
  constexpr auto kWait = std::chrono::minutes(10);
  std::vector<
      std::pair<std::string, decltype(self->request(caf::actor{}, kWait, drop_atom::value))>>
      asked;
  for (auto& [model, m] : d.models)
    asked.emplace_back(model, self->request(m.actor, kWait, drop_atom::value));
  for (auto& [model, h] : asked)
    h.receive([](bool) {},
              [&, &model = model](caf::error& e) {
                if (e != caf::sec::request_receiver_down)  // already gone: nothing left open
                  spdlog::error("dropDatabase {}: model {} did not close: {}", name, model,
                                to_string(e));
              });
  // Then the database actor: once it answers, every catalog write the models asked for is
  // done, and it writes no more (the name may be reused as soon as this returns).
  self->request(d.actor, kWait, drop_atom::value).receive([](bool) {}, [](caf::error&) {});
  std::string trash;
  Status s;
  if (!d.cfg.dir.empty()) {
    // Move the directory aside, so a new database of the same name starts clean at once; the
    // database actor removes it in the background.
    trash = data_dir_ + "/." + d.cfg.name + ".dropped-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    std::error_code ec;
    std::filesystem::rename(d.cfg.dir, trash, ec);
    if (ec) {
      // Its models are gone already: the database is dropped either way; remove it in place.
      s = make_status(ErrorCode::StorageError,
                      "cannot move " + d.cfg.dir + " aside: " + ec.message());
      trash = d.cfg.dir;
    }
  }
  caf::anon_send(d.actor, drop_atom::value, trash);
  dbs_.erase(it);
  return s;
}

bool Registry::has_database(std::string_view name) const {
  return dbs_.count(name) > 0;
}

std::string Registry::list_databases() const {
  std::string out;
  MpWriter w(out);
  w.array_header(uint32_t(dbs_.size()));
  for (auto& [name, db] : dbs_) {
    w.map_header(3);
    w.str("name"), w.str(name);
    w.str("storage"), w.str(db.cfg.storage);
    w.str("options"), w.raw(db.cfg.options);
  }
  return out;
}

namespace {

// A strategy whose open() fails with `why` (and everything else with it): the model's actor
// answers every request with that error instead of serving documents that should not be there.
class UnopenedStorage final : public StorageStrategy {
 public:
  explicit UnopenedStorage(Status why) : why_(std::move(why)) {}
  Status open(const std::function<Status(std::string_view)>&) override { return why_; }
  uint64_t last_seq() const override { return 0; }
  Status apply(std::span<const Change>) override { return why_; }
  Status commit() override { return why_; }
  Status flush() override { return why_; }
  void close() override {}
  Status destroy() override { return why_; }
  StorageStats stats() const override { return {}; }

 private:
  Status why_;
};

// The storage of a model the catalog does not list, emptied first. Whatever such a model's
// storage holds was left by a creation whose catalog entry never became durable: the daemon was
// killed after the model's first commit but before the catalog write it waits for, so none of
// it was acknowledged (model_actor.cc release()), and after the restart the model does not
// exist. Opened as it is, those documents would come back as soon as the model is created
// again (a read spawns the actor, which loads them; the next write makes them visible): the
// crash matrix saw them "resurrected" after a second kill, and a WiredTiger home killed in its
// very first create could not be opened at all. Runs on the model's actor, like open().
std::unique_ptr<StorageStrategy> emptied_storage(StorageEngine& engine, const std::string& name) {
  Status s = engine.make_model(name)->destroy();
  if (!s.ok())
    return std::make_unique<UnopenedStorage>(make_status(
        ErrorCode::StorageError,
        "cannot remove what an unfinished creation of model '" + name + "' left: " + s.message));
  return engine.make_model(name);
}

}  // namespace

ModelRef& Registry::spawn_model(Database& d, std::string_view model, const std::string& schema,
                                bool exists, const std::string& seed_dir) {
  ModelConfig cfg;
  cfg.db = d.cfg.name;
  cfg.model = std::string(model);
  cfg.sink = sink_.lock();  // the owner calls this, so it is alive
  cfg.inflight = std::make_shared<std::atomic<int64_t>>(0);
  cfg.database = d.actor;
  cfg.make_storage = [engine = d.engine, name = cfg.model, exists] {
    return exists ? engine->make_model(name) : emptied_storage(*engine, name);
  };
  // Restored from a backup's snapshot dump: the model's storage loads it when it opens.
  std::string dump = seed_dir.empty() ? std::string() : seed_dir + "/" + cfg.model + kDumpSuffix;
  std::error_code ec;
  if (!dump.empty() && std::filesystem::exists(dump, ec))
    cfg.make_storage = [engine = d.engine, name = cfg.model, dump] {
      return seeded_storage(engine->make_model(name), dump);
    };
  cfg.schema = schema;
  cfg.exists = exists;
  cfg.change_log_size = change_log_size_;
  cfg.pipelined = d.cfg.storage == "file" || d.cfg.storage == "wiredtiger";
  ModelRef ref{spawn_model_actor(sys_, cfg), cfg.inflight};
  return d.models.insert_or_assign(std::string(model), std::move(ref)).first->second;
}

ModelRef* Registry::model(std::string_view db, std::string_view model, bool create) {
  auto dbit = dbs_.find(db);
  if (dbit == dbs_.end()) return nullptr;
  Database& d = dbit->second;
  auto it = d.models.find(model);
  if (it != d.models.end()) return &it->second;
  if (!create) return nullptr;
  return &spawn_model(d, model, std::string(), false);
}

std::vector<caf::actor> Registry::model_actors(std::string_view db) const {
  std::vector<caf::actor> out;
  for (auto& [name, d] : dbs_)
    if (db.empty() || name == db)
      for (auto& [_, m] : d.models) out.push_back(m.actor);
  return out;
}

std::vector<std::pair<std::string, std::vector<caf::actor>>> Registry::all_models() const {
  std::vector<std::pair<std::string, std::vector<caf::actor>>> out;
  for (auto& [name, d] : dbs_) out.emplace_back(name, model_actors(name));
  return out;
}

void Registry::shutdown() {
  for (auto& [_, d] : dbs_) {
    for (auto& [__, m] : d.models) caf::anon_send_exit(m.actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.actor, caf::exit_reason::user_shutdown);
  }
  dbs_.clear();
}

}  // namespace mg
