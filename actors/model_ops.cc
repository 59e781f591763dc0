// actors/model_ops.cc — document operations (see model_ops.h). One handler per row of the
// CONTRACT.md §5 table.
#include "actors/model_ops.h"

#include "actors/args.h"
#include "core/projection.h"
#include "protocol/reply.h"

namespace mg {

namespace {

using Events = std::vector<ChangeEvent>;

template <class T>
T unwrap(Result<T> r) {
  if (!r.ok()) fail(r.status());
  return std::move(r.value());
}

void write_doc(MpWriter& w, const DocRef& d, const Projection& p) {
  if (!d) return w.nil();
  if (p.is_identity()) return w.raw(d.bytes());
  p.apply(d.view(), w.buffer());
}

std::string doc_reply(const Envelope& env, const DocRef& d, MpView projection) {
  auto p = Projection::compile(projection);
  ReplyWriter r(env.id, 1, d ? d.size() : 0);
  write_doc(r.key("doc"), d, *p);
  return r.take();
}

std::string write_reply(const Envelope& env, const WriteResult& wr) {
  ReplyWriter r(env.id, 3);
  r.key("matchedCount").integer(int64_t(wr.matched));
  r.key("modifiedCount").integer(int64_t(wr.modified));
  if (wr.upserted_id.empty())
    r.key("upsertedId").nil();
  else
    r.key("upsertedId").raw(wr.upserted_id);
  return r.take();
}

FindSpec find_spec(const Envelope& env, int64_t limit) {
  FindSpec s;
  s.filter = args::map(env, "filter");
  s.sort = args::map(env, "sort");
  s.skip = args::integer(env, "skip", 0);
  s.limit = limit;
  if (s.skip < 0) fail(ErrorCode::BadValue, "'skip' must not be negative");
  return s;
}

std::string op_insert_one(Collection& c, const Envelope& env, Events& ev, bool& wrote) {
  MpView doc = args::map(env, "doc", true);
  std::string_view raw = doc.bytes();
  auto ids = unwrap(c.insert_many({&raw, 1}, &ev));
  wrote = true;
  ReplyWriter r(env.id, 1);
  r.key("insertedId").raw(ids[0]);
  return r.take();
}

std::string op_insert_many(Collection& c, const Envelope& env, Events& ev, bool& wrote) {
  MpView docs = args::array(env, "docs", true);
  std::vector<std::string_view> raws;
  // Each document is checked and sliced in one pass (validate_prefix), then not walked again;
  // the front door left the bytes of the largest bodies to this pass (Envelope::docs_unchecked).
  bool malformed_body = false;
  Status s = insert_many_documents(env, docs, Collection::document_options(), raws, malformed_body);
  if (malformed_body) return error_reply({}, s);  // as the front door refuses such a body
  if (!s.ok()) fail(std::move(s));
  thread_local std::string ids;  // the encoded ids, reused: no allocation per document
  ids.clear();
  size_t n = unwrap(c.insert_many(raws, &ev, true, ids));
  wrote = n > 0;
  ReplyWriter r(env.id, 2, ids.size() + 16);
  MpWriter& w = r.key("insertedIds");
  w.array_header(uint32_t(n));
  w.raw(ids);
  r.key("insertedCount").integer(int64_t(n));
  return r.take();
}

std::string op_find(Collection& c, const Envelope& env, Events&, bool&) {
  int64_t limit = args::integer(env, "limit", 0);
  if (limit < 0) fail(ErrorCode::BadValue, "'limit' must not be negative");
  FindSpec spec = find_spec(env, limit);
  auto p = Projection::compile(args::map(env, "projection"));
  auto docs = unwrap(c.find(spec));
  size_t bytes = 0;
  for (auto& d : docs) bytes += d.size();
  ReplyWriter r(env.id, 1, bytes + 8);
  MpWriter& w = r.key("docs");
  w.array_header(uint32_t(docs.size()));
  for (auto& d : docs) write_doc(w, d, *p);
  return r.take();
}

std::string op_find_one(Collection& c, const Envelope& env, Events&, bool&) {
  auto docs = unwrap(c.find(find_spec(env, 1)));
  return doc_reply(env, docs.empty() ? DocRef() : docs[0], args::map(env, "projection"));
}

std::string op_find_by_id(Collection& c, const Envelope& env, Events&, bool&) {
  MpView id = args::value(env, "_id");
  return doc_reply(env, unwrap(c.find_by_id(id)), args::map(env, "projection"));
}

std::string op_count(Collection& c, const Envelope& env, Events&, bool&) {
  uint64_t n = unwrap(c.count(args::map(env, "filter")));
  ReplyWriter r(env.id, 1);
  r.key("count").integer(int64_t(n));
  return r.take();
}

std::string op_distinct(Collection& c, const Envelope& env, Events&, bool&) {
  std::string_view field = args::string(env, "field", true);
  auto values = unwrap(c.distinct(field, args::map(env, "filter")));
  ReplyWriter r(env.id, 1);
  MpWriter& w = r.key("values");
  w.array_header(uint32_t(values.size()));
  for (auto& v : values) w.raw(v);
  return r.take();
}

std::string update(Collection& c, const Envelope& env, Events& ev, bool& wrote, bool multi) {
  MpView filter = args::map(env, "filter");
  MpView upd = args::map(env, "update", true);
  auto wr = unwrap(c.update(filter, upd, args::boolean(env, "upsert", false), multi, &ev));
  wrote = wr.modified > 0 || !wr.upserted_id.empty();
  return write_reply(env, wr);
}
std::string op_update_one(Collection& c, const Envelope& e, Events& ev, bool& w) {
  return update(c, e, ev, w, false);
}
std::string op_update_many(Collection& c, const Envelope& e, Events& ev, bool& w) {
  return update(c, e, ev, w, true);
}

std::string op_replace_one(Collection& c, const Envelope& env, Events& ev, bool& wrote) {
  MpView filter = args::map(env, "filter");
  MpView rep = args::map(env, "replacement", true);
  auto wr = unwrap(c.replace_one(filter, rep, args::boolean(env, "upsert", false), &ev));
  wrote = wr.modified > 0 || !wr.upserted_id.empty();
  return write_reply(env, wr);
}

std::string remove(Collection& c, const Envelope& env, Events& ev, bool& wrote, bool multi) {
  uint64_t n = unwrap(c.remove(args::map(env, "filter"), multi, &ev));
  wrote = n > 0;
  ReplyWriter r(env.id, 1);
  r.key("deletedCount").integer(int64_t(n));
  return r.take();
}
std::string op_delete_one(Collection& c, const Envelope& e, Events& ev, bool& w) {
  return remove(c, e, ev, w, false);
}
std::string op_delete_many(Collection& c, const Envelope& e, Events& ev, bool& w) {
  return remove(c, e, ev, w, true);
}

std::string op_find_one_and_update(Collection& c, const Envelope& env, Events& ev, bool& wrote) {
  std::string_view ret = args::string(env, "returnDocument", false, "before");
  if (ret != "before" && ret != "after")
    fail(ErrorCode::BadValue, "'returnDocument' must be 'before' or 'after'");
  size_t before = ev.size();
  DocRef d = unwrap(c.find_one_and_update(
      args::map(env, "filter"), args::map(env, "update", true), args::map(env, "sort"),
      args::boolean(env, "upsert", false), ret == "after", &ev));
  wrote = ev.size() > before;
  return doc_reply(env, d, args::map(env, "projection"));
}

std::string op_find_one_and_delete(Collection& c, const Envelope& env, Events& ev, bool& wrote) {
  DocRef d = unwrap(c.find_one_and_delete(args::map(env, "filter"), args::map(env, "sort"), &ev));
  wrote = bool(d);
  return doc_reply(env, d, args::map(env, "projection"));
}

// aggregate without a model actor's help (a model that does not exist): its collection is
// empty, and a $lookup of another model (reachable only after $facet) finds nothing. Model
// actors run aggregate themselves (model_actor.cc), asking other models for $lookup.
std::string op_aggregate(Collection& c, const Envelope& env, Events&, bool&) {
  auto a = unwrap(Aggregation::compile(args::array(env, "pipeline", true)));
  while (!unwrap(a->run(c))) a->provide({});
  return aggregate_reply(env.id, *a);
}

using Handler = std::string (*)(Collection&, const Envelope&, Events&, bool&);
struct OpEntry {
  Handler fn;
  OpKind kind;
};

struct NamedOp {
  std::string_view name;
  OpEntry entry;
};
// Looked up two or three times per request (front door and model actor): a scan comparing
// lengths first beats hashing the name for fifteen entries.
constexpr NamedOp kOps[] = {
    {"insertOne", {op_insert_one, OpKind::Write}},
    {"insertMany", {op_insert_many, OpKind::Write}},
    {"find", {op_find, OpKind::Read}},
    {"findOne", {op_find_one, OpKind::Read}},
    {"findById", {op_find_by_id, OpKind::Read}},
    {"count", {op_count, OpKind::Read}},
    {"distinct", {op_distinct, OpKind::Read}},
    {"aggregate", {op_aggregate, OpKind::Read}},
    {"updateOne", {op_update_one, OpKind::Write}},
    {"updateMany", {op_update_many, OpKind::Write}},
    {"replaceOne", {op_replace_one, OpKind::Write}},
    {"deleteOne", {op_delete_one, OpKind::Write}},
    {"deleteMany", {op_delete_many, OpKind::Write}},
    {"findOneAndUpdate", {op_find_one_and_update, OpKind::Write}},
    {"findOneAndDelete", {op_find_one_and_delete, OpKind::Write}},
};

const OpEntry* find_op(std::string_view op) {
  for (const NamedOp& o : kOps)
    if (o.name.size() == op.size() && o.name == op) return &o.entry;
  return nullptr;
}

}  // namespace

OpKind document_op_kind(std::string_view op) {
  const OpEntry* e = find_op(op);
  return e ? e->kind : OpKind::Unknown;
}

std::string run_document_op(Collection& c, const Envelope& env, Events& events, bool& wrote) {
  wrote = false;
  const OpEntry* op = find_op(env.op);
  if (!op)
    return error_reply(env.id, make_status(ErrorCode::CommandNotFound,
                                           "unknown operation '" + std::string(env.op) + "'"));
  try {
    return op->fn(c, env, events, wrote);
  } catch (...) {
    return error_reply(env.id, status_of_current_exception());
  }
}

std::string aggregate_reply(std::string_view id, const Aggregation& a) {
  ReplyWriter r(id, 1, a.result_bytes() + 8);
  MpWriter& w = r.key("docs");
  w.array_header(uint32_t(a.result_count()));
  a.write_results(w);
  return r.take();
}

std::string empty_read_reply(const Envelope& env) {
  try {
    Collection empty(std::string(env.model), nullptr);
    std::vector<ChangeEvent> none;
    bool wrote = false;
    return run_document_op(empty, env, none, wrote);
  } catch (...) {
    return error_reply(env.id, status_of_current_exception());
  }
}

}  // namespace mg
