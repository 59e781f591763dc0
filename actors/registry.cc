#include "actors/registry.h"

#include "actors/messages.h"
#include "actors/model_actor.h"
#include "core/compare.h"
#include "core/ejson.h"
#include "storage/memory_storage.h"

namespace mg {

Registry::Registry(caf::actor_system& sys, std::shared_ptr<ReplySink> sink, std::string data_dir)
    : sys_(sys), sink_(std::move(sink)), data_dir_(std::move(data_dir)) {
  std::string empty_map("\x80", 1);
  (void)create_database("default", "memory", MpView(empty_map));
}

std::vector<std::string> Registry::storages() { return {"memory"}; }

// The options of `storage` with defaults filled in, or InvalidOptions.
static Result<std::string> normalize_options(std::string_view storage, MpView options) {
  if (storage != "memory") {
    bool known = storage == "file" || storage == "sqlite" || storage == "wiredtiger";
    return make_status(ErrorCode::InvalidOptions,
                       "storage '" + std::string(storage) +
                           (known ? "' is not available in this build yet"
                                  : "' is unknown (memory, file, sqlite, wiredtiger)"));
  }
  if (options.valid() && options.type() == MpType::Map && options.count() > 0) {
    MapIter it(options);
    std::string_view k;
    MpView v;
    it.next(k, v);
    return make_status(ErrorCode::InvalidOptions,
                       "memory storage takes no options (got '" + std::string(k) + "')");
  }
  return std::string("\x80", 1);
}

Result<bool> Registry::create_database(std::string_view name, std::string_view storage,
                                       MpView options) {
  if (options.valid() && options.type() != MpType::Map && options.type() != MpType::Nil)
    return make_status(ErrorCode::TypeMismatch, "'options' must be a map");
  Result<std::string> opts = normalize_options(storage, options);
  if (!opts.ok()) return opts.status();
  auto it = dbs_.find(name);
  if (it != dbs_.end()) {
    const DatabaseConfig& cur = it->second.cfg;
    if (cur.storage == storage &&
        compare_values(MpView(cur.options), MpView(opts.value())) == 0)
      return false;
    return make_status(ErrorCode::InvalidOptions,
                       "database '" + std::string(name) + "' exists with storage '" +
                           cur.storage + "' and options " + json_from_mp(cur.options));
  }
  Database db;
  db.cfg = DatabaseConfig{std::string(name), std::string(storage), opts.value()};
  db.actor = spawn_database_actor(sys_, db.cfg);
  dbs_.emplace(std::string(name), std::move(db));
  return true;
}

Status Registry::drop_database(std::string_view name) {
  if (name == "default")
    return make_status(ErrorCode::BadValue, "the database 'default' cannot be dropped");
  auto it = dbs_.find(name);
  if (it == dbs_.end())
    return make_status(ErrorCode::NamespaceNotFound,
                       "database '" + std::string(name) + "' does not exist");
  for (auto& [_, m] : it->second.models) caf::anon_send(m.actor, drop_atom::value);
  caf::anon_send(it->second.actor, drop_atom::value);
  dbs_.erase(it);
  return Status::OK();
}

bool Registry::has_database(std::string_view name) const { return dbs_.count(name) > 0; }

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

ModelRef* Registry::model(std::string_view db, std::string_view model, bool create) {
  auto dbit = dbs_.find(db);
  if (dbit == dbs_.end()) return nullptr;
  Database& d = dbit->second;
  auto it = d.models.find(model);
  if (it != d.models.end()) return &it->second;
  if (!create) return nullptr;
  ModelConfig cfg;
  cfg.db = d.cfg.name;
  cfg.model = std::string(model);
  cfg.sink = sink_;
  cfg.inflight = std::make_shared<std::atomic<int64_t>>(0);
  cfg.database = d.actor;
  cfg.make_storage = [] { return make_memory_storage(); };
  cfg.exists = false;
  ModelRef ref{spawn_model_actor(sys_, cfg), cfg.inflight};
  return &d.models.emplace(std::string(model), std::move(ref)).first->second;
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
