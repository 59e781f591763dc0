// daemon/front_door_data.cc — the front door's data-movement operations: `migrate`, `backup`
// and `createDatabase {fromBackup}` (docs/PROTOCOL.md). The front door only checks the
// arguments and names; the copying runs in actors (actors/migrate.h, actors/backup.h), so the
// front door keeps serving every other request meanwhile.
#include "actors/args.h"
#include "actors/backup.h"
#include "actors/migrate.h"
#include "daemon/front_door.h"
#include "protocol/reply.h"

namespace mg {

namespace {
Status bad_name(std::string_view what, std::string_view name) {
  return make_status(ErrorCode::BadValue, "invalid " + std::string(what) + " '" +
                                              std::string(name.substr(0, 80)) +
                                              "': names must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
}
Status no_db(std::string_view db) {
  return make_status(ErrorCode::NamespaceNotFound,
                     "database '" + std::string(db) + "' does not exist");
}
}  // namespace

// migrate {db, model, toDb, toModel = model, batchSize = 1000}.
void FrontDoor::migrate(const Route& route, const Envelope& env) {
  if (env.model.empty())
    return answer(
        route, error_reply(env.id, make_status(ErrorCode::BadValue, "'migrate' needs a 'model'")));
  MigrateRequest req;
  req.src_db = std::string(env.db);
  req.src_model = std::string(env.model);
  req.dst_db = std::string(args::string(env, "toDb", true));
  req.dst_model = std::string(args::string(env, "toModel", false, env.model));
  int64_t batch = args::integer(env, "batchSize", 1000);
  if (batch < 1 || batch > 100000)
    return answer(route, error_reply(env.id, make_status(ErrorCode::BadValue,
                                                         "'batchSize' must be 1 to 100000")));
  req.batch = size_t(batch);
  if (!valid_name(req.dst_db))
    return answer(route, error_reply(env.id, bad_name("toDb", req.dst_db)));
  if (!valid_name(req.dst_model))
    return answer(route, error_reply(env.id, bad_name("toModel", req.dst_model)));
  if (!registry_->has_database(req.src_db))
    return answer(route, error_reply(env.id, no_db(req.src_db)));
  if (!registry_->has_database(req.dst_db))
    return answer(route, error_reply(env.id, no_db(req.dst_db)));
  if (req.src_db == req.dst_db && req.src_model == req.dst_model)
    return answer(route, error_reply(env.id, make_status(ErrorCode::BadValue,
                                                         "migrate: source and destination are "
                                                         "the same model")));
  ModelRef* src = registry_->model(req.src_db, req.src_model, false);
  if (!src)
    return answer(route, error_reply(env.id, make_status(ErrorCode::NamespaceNotFound,
                                                         "model " + req.src_db + "." +
                                                             req.src_model + " does not exist")));
  req.src = src->actor;
  req.dst = registry_->model(req.dst_db, req.dst_model, true)->actor;
  req.reply_id = std::string(env.id);
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  start_migration(sys_, std::move(req), shared_from_this(), route);
}

// backup {db, name}.
void FrontDoor::backup(const Route& route, const Envelope& env) {
  std::string_view name = args::string(env, "name", true);
  if (!valid_name(name)) return answer(route, error_reply(env.id, bad_name("backup name", name)));
  auto cat = registry_->describe(env.db);
  if (!cat.ok()) return answer(route, error_reply(env.id, cat.status()));
  BackupRequest req{registry_->data_dir(), std::string(name), cat.value(), std::string(env.id)};
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  Status s = start_backup(sys_, registry_->model_actors(env.db), std::move(req), shared_from_this(),
                          route);
  if (!s.ok()) {
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
    answer(route, error_reply(env.id, s));
  }
}

// createDatabase {db, fromBackup, storage?, options?} → {created: true}.
void FrontDoor::restore(const Route& route, const Envelope& env) {
  std::string_view from = args::string(env, "fromBackup", true);
  MpView st = env.arg("storage");
  std::string_view storage = st.valid() ? args::string(env, "storage", false) : std::string_view();
  auto r = registry_->restore_database(env.db, storage, args::map(env, "options"), from);
  if (!r.ok()) return answer(route, error_reply(env.id, r.status()));
  ReplyWriter w(env.id, 1);
  w.key("created").boolean(true);
  answer(route, w.take());
}

}  // namespace mg
