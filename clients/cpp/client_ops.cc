// clients/cpp/client_ops.cc — the typed helpers of Client, one per operation of CONTRACT.md §5.
//
// Each helper builds its Request, runs it with command() (which throws the server's Error),
// and copies the result fields out of the reply. A reply without the field the contract
// promises is a daemon bug, reported as Error InternalError naming the op and the field.
#include <utility>

#include "clients/cpp/client.h"

namespace mg::client {

namespace {

const std::string kEmptyMap("\x80", 1);

// The reply field `key`, which must exist and (unless `any`) have type `t`.
MpView need(const Reply& r, std::string_view op, std::string_view key, MpType t, bool any = false) {
  MpView v = r.get(key);
  if (!v.valid() || (!any && v.type() != t))
    throw Error(1, "InternalError",
                "reply to '" + std::string(op) + "' has no valid '" + std::string(key) + "'");
  return v;
}

std::vector<std::string> copy_array(MpView arr) {
  std::vector<std::string> out;
  out.reserve(arr.count());
  ArrayIter it(arr);
  MpView v;
  while (it.next(v)) out.emplace_back(v.bytes());
  return out;
}

std::vector<std::string> array_field(const Reply& r, std::string_view op, std::string_view key) {
  return copy_array(need(r, op, key, MpType::Array));
}

// `doc` of findOne & co: nil (or absent) is "no document".
std::optional<std::string> doc_field(const Reply& r) {
  MpView v = r.get("doc");
  if (!v.valid() || v.type() == MpType::Nil) return std::nullopt;
  return std::string(v.bytes());
}

std::string_view or_empty_map(std::string_view filter) {
  return filter.empty() ? std::string_view(kEmptyMap) : filter;
}

UpdateResult update_result(const Reply& r, std::string_view op) {
  UpdateResult u;
  u.matched = need(r, op, "matchedCount", MpType::Int).as_int();
  u.modified = need(r, op, "modifiedCount", MpType::Int).as_int();
  MpView up = r.get("upsertedId");
  if (up.valid() && up.type() != MpType::Nil) u.upserted_id = up.bytes();
  return u;
}

}  // namespace

Reply Client::ping() {
  return command(Request("ping"));
}
Reply Client::hello() {
  return command(Request("hello"));
}
Reply Client::stats() {
  return command(Request("stats"));
}

bool Client::create_database(std::string_view db, std::string_view storage,
                             std::string_view options) {
  Reply r =
      command(Request("createDatabase", db).arg_str("storage", storage).arg_if("options", options));
  return need(r, "createDatabase", "created", MpType::Bool).as_bool();
}

Reply Client::drop_database(std::string_view db) {
  return command(Request("dropDatabase", db));
}

Reply Client::list_databases() {
  return command(Request("listDatabases"));
}

void Client::flush(std::string_view db) {
  command(Request("flush", db));
}

bool Client::define_model(std::string_view db, std::string_view model, std::string_view schema) {
  Reply r = command(Request("defineModel", db, model).arg("schema", schema));
  return need(r, "defineModel", "created", MpType::Bool).as_bool();
}

bool Client::drop_model(std::string_view db, std::string_view model) {
  Reply r = command(Request("dropModel", db, model));
  return need(r, "dropModel", "dropped", MpType::Bool).as_bool();
}

Reply Client::list_models(std::string_view db) {
  return command(Request("listModels", db));
}

std::string Client::insert_one(std::string_view db, std::string_view model, std::string_view doc) {
  Reply r = command(Request("insertOne", db, model).arg("doc", doc));
  return std::string(need(r, "insertOne", "insertedId", MpType::Nil, true).bytes());
}

std::vector<std::string> Client::insert_many(std::string_view db, std::string_view model,
                                             const std::vector<std::string>& docs) {
  Reply r = command(Request("insertMany", db, model).arg_array("docs", docs));
  return array_field(r, "insertMany", "insertedIds");
}

std::vector<std::string> Client::find(std::string_view db, std::string_view model,
                                      const FindArgs& a) {
  Request req("find", db, model);
  req.arg("filter", or_empty_map(a.filter)).arg_if("sort", a.sort);
  if (a.skip) req.arg_int("skip", a.skip);
  if (a.limit) req.arg_int("limit", a.limit);
  req.arg_if("projection", a.projection);
  return array_field(command(std::move(req)), "find", "docs");
}

std::optional<std::string> Client::find_one(std::string_view db, std::string_view model,
                                            const FindArgs& a) {
  Request req("findOne", db, model);
  req.arg("filter", or_empty_map(a.filter)).arg_if("sort", a.sort);
  req.arg_if("projection", a.projection);
  return doc_field(command(std::move(req)));
}

std::optional<std::string> Client::find_by_id(std::string_view db, std::string_view model,
                                              std::string_view id, std::string_view projection) {
  return doc_field(
      command(Request("findById", db, model).arg("_id", id).arg_if("projection", projection)));
}

int64_t Client::count(std::string_view db, std::string_view model, std::string_view filter) {
  Reply r = command(Request("count", db, model).arg("filter", or_empty_map(filter)));
  return need(r, "count", "count", MpType::Int).as_int();
}

std::vector<std::string> Client::distinct(std::string_view db, std::string_view model,
                                          std::string_view field, std::string_view filter) {
  Request req("distinct", db, model);
  req.arg_str("field", field).arg("filter", or_empty_map(filter));
  return array_field(command(std::move(req)), "distinct", "values");
}

UpdateResult Client::update_one(std::string_view db, std::string_view model,
                                std::string_view filter, std::string_view update, bool upsert) {
  Request req("updateOne", db, model);
  req.arg("filter", filter).arg("update", update).arg_bool("upsert", upsert);
  return update_result(command(std::move(req)), "updateOne");
}

UpdateResult Client::update_many(std::string_view db, std::string_view model,
                                 std::string_view filter, std::string_view update, bool upsert) {
  Request req("updateMany", db, model);
  req.arg("filter", filter).arg("update", update).arg_bool("upsert", upsert);
  return update_result(command(std::move(req)), "updateMany");
}

UpdateResult Client::replace_one(std::string_view db, std::string_view model,
                                 std::string_view filter, std::string_view replacement,
                                 bool upsert) {
  Request req("replaceOne", db, model);
  req.arg("filter", filter).arg("replacement", replacement).arg_bool("upsert", upsert);
  return update_result(command(std::move(req)), "replaceOne");
}

int64_t Client::delete_one(std::string_view db, std::string_view model, std::string_view filter) {
  Reply r = command(Request("deleteOne", db, model).arg("filter", filter));
  return need(r, "deleteOne", "deletedCount", MpType::Int).as_int();
}

int64_t Client::delete_many(std::string_view db, std::string_view model, std::string_view filter) {
  Reply r = command(Request("deleteMany", db, model).arg("filter", filter));
  return need(r, "deleteMany", "deletedCount", MpType::Int).as_int();
}

std::optional<std::string> Client::find_one_and_update(std::string_view db, std::string_view model,
                                                       std::string_view filter,
                                                       std::string_view update,
                                                       const FindAndModifyArgs& a) {
  Request req("findOneAndUpdate", db, model);
  req.arg("filter", filter).arg("update", update).arg_if("sort", a.sort);
  req.arg_bool("upsert", a.upsert).arg_str("returnDocument", a.return_after ? "after" : "before");
  req.arg_if("projection", a.projection);
  return doc_field(command(std::move(req)));
}

std::optional<std::string> Client::find_one_and_delete(std::string_view db, std::string_view model,
                                                       std::string_view filter,
                                                       const FindAndModifyArgs& a) {
  Request req("findOneAndDelete", db, model);
  req.arg("filter", filter).arg_if("sort", a.sort).arg_if("projection", a.projection);
  return doc_field(command(std::move(req)));
}

std::vector<std::string> Client::aggregate(std::string_view db, std::string_view model,
                                           std::string_view pipeline) {
  Reply r = command(Request("aggregate", db, model).arg("pipeline", pipeline));
  return array_field(r, "aggregate", "docs");
}

ChangesResult Client::changes(std::string_view db, std::string_view model, int64_t after,
                              int64_t limit) {
  Request req("changes", db, model);
  req.arg_int("after", after);
  if (limit) req.arg_int("limit", limit);
  Reply r = command(std::move(req));
  ChangesResult out;
  out.events = array_field(r, "changes", "events");
  out.last_seq = need(r, "changes", "lastSeq", MpType::Int).as_int();
  return out;
}

void Client::insert_many_async(std::string_view db, std::string_view model,
                               const std::vector<std::string>& docs, Callback on_reply) {
  send_async(Request("insertMany", db, model).arg_array("docs", docs), std::move(on_reply));
}

}  // namespace mg::client
