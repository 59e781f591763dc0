// clients/cli/commands.cc — the one-request commands of `memgoose` and the JSON helpers they
// share.
//
// Each command turns its JSON arguments into MessagePack first (so a typo never reaches the
// server), sends one request with Client::command, and prints: documents one Extended JSON
// line each (find), a bare number (count), or otherwise the reply map without the client's
// `id`, e.g. `memgoose update app.User '{"age":{"$lt":18}}' '{"$set":{"minor":true}}' --many`
// prints {"ok":true,"matchedCount":3,"modifiedCount":3,"upsertedId":null}.
#include <cstdio>
#include <string>

#include "clients/cli/cli.h"
#include "core/ejson.h"
#include "protocol/curve_keys.h"

namespace mg::cli {

namespace {

client::Client connect(const Connection& conn) {
  return client::Client(conn.endpoint, client_options(conn));
}

void write_stdout(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// Prints every element of the reply's `docs` array, one JSON line each.
void print_docs(const client::Reply& reply) {
  MpView docs = reply.get("docs");
  if (!docs.valid() || docs.type() != MpType::Array)
    throw client::Error(1, "InternalError", "reply to 'find' has no 'docs' array");
  std::string line;
  ArrayIter it(docs);
  MpView doc;
  while (it.next(doc)) {
    line.clear();
    msgpack_to_ejson(doc, line);
    line.push_back('\n');
    write_stdout(line);
  }
}

}  // namespace

Namespace parse_namespace(const std::string& text) {
  size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size())
    throw InputError("BadValue", "expected <db>.<Model>, got '" + text + "'");
  return {text.substr(0, dot), text.substr(dot + 1)};
}

std::string json_arg(std::string_view what, std::string_view json) {
  std::string out;
  Status st = ejson_to_msgpack(json, out);
  if (!st.ok())
    throw InputError(std::string(error_name(st.code)), std::string(what) + ": " + st.message);
  return out;
}

std::string json_object_arg(std::string_view what, std::string_view json) {
  std::string out = json_arg(what, json);
  if (MpView(out).type() != MpType::Map)
    throw InputError("BadValue", std::string(what) + ": expected a JSON object");
  return out;
}

void print_json_line(MpView v) {
  std::string line;
  msgpack_to_ejson(v, line);
  line.push_back('\n');
  write_stdout(line);
}

void print_reply(const client::Reply& reply) {
  MpView root = reply.root();
  std::string out;
  MpWriter w(out);
  uint32_t n = root.count();
  if (root.get("id").valid()) --n;
  w.map_header(n);
  MapIter it(root);
  std::string_view key;
  MpView value;
  while (it.next(key, value)) {
    if (key == "id") continue;
    w.str(key);
    w.raw(value);
  }
  print_json_line(MpView(out));
}

int run_server_op(const Connection& conn, std::string_view op) {
  auto c = connect(conn);
  print_reply(c.command(client::Request(op)));
  return 0;
}

int run_insert(const Connection& conn, const std::string& ns, const std::string& json) {
  Namespace n = parse_namespace(ns);
  std::string value = json_arg("document", json);
  MpView v(value);
  if (v.type() == MpType::Map) {
    auto c = connect(conn);
    print_reply(c.command(client::Request("insertOne", n.db, n.model).arg("doc", value)));
    return 0;
  }
  if (v.type() != MpType::Array)
    throw InputError("BadValue", "document: expected a JSON object or an array of objects");
  ArrayIter it(v);
  MpView doc;
  for (uint32_t i = 0; it.next(doc); ++i)
    if (doc.type() != MpType::Map)
      throw InputError("BadValue", "document " + std::to_string(i) + ": expected a JSON object");
  auto c = connect(conn);
  print_reply(c.command(client::Request("insertMany", n.db, n.model).arg("docs", value)));
  return 0;
}

int run_find(const Connection& conn, const FindOptions& o) {
  Namespace n = parse_namespace(o.ns);
  client::Request req("find", n.db, n.model);
  req.arg("filter", json_object_arg("filter", o.filter.empty() ? "{}" : o.filter));
  if (!o.sort.empty()) req.arg("sort", json_object_arg("--sort", o.sort));
  if (o.skip) req.arg_int("skip", o.skip);
  if (o.limit) req.arg_int("limit", o.limit);
  if (!o.projection.empty()) req.arg("projection", json_object_arg("--projection", o.projection));
  auto c = connect(conn);
  print_docs(c.command(std::move(req)));
  return 0;
}

int run_aggregate(const Connection& conn, const std::string& ns, const std::string& pipeline) {
  Namespace n = parse_namespace(ns);
  std::string p = json_arg("pipeline", pipeline);
  if (MpView(p).type() != MpType::Array)
    throw InputError("BadValue", "pipeline: expected a JSON array of stages");
  auto c = connect(conn);
  print_docs(c.command(client::Request("aggregate", n.db, n.model).arg("pipeline", p)));
  return 0;
}

int run_count(const Connection& conn, const std::string& ns, const std::string& filter) {
  Namespace n = parse_namespace(ns);
  std::string f = json_object_arg("filter", filter.empty() ? "{}" : filter);
  auto c = connect(conn);
  std::printf("%lld\n", static_cast<long long>(c.count(n.db, n.model, f)));
  return 0;
}

int run_update(const Connection& conn, const UpdateOptions& o) {
  Namespace n = parse_namespace(o.ns);
  client::Request req(o.many ? "updateMany" : "updateOne", n.db, n.model);
  req.arg("filter", json_object_arg("filter", o.filter));
  req.arg("update", json_object_arg("update", o.update));
  req.arg_bool("upsert", o.upsert);
  auto c = connect(conn);
  print_reply(c.command(std::move(req)));
  return 0;
}

int run_delete(const Connection& conn, const std::string& ns, const std::string& filter,
               bool many) {
  Namespace n = parse_namespace(ns);
  client::Request req(many ? "deleteMany" : "deleteOne", n.db, n.model);
  req.arg("filter", json_object_arg("filter", filter));
  auto c = connect(conn);
  print_reply(c.command(std::move(req)));
  return 0;
}

int run_drop(const Connection& conn, const std::string& target) {
  auto c = connect(conn);
  if (target.find('.') == std::string::npos) {
    if (target.empty()) throw InputError("BadValue", "drop: expected <db> or <db>.<Model>");
    print_reply(c.command(client::Request("dropDatabase", target)));
    return 0;
  }
  Namespace n = parse_namespace(target);
  print_reply(c.command(client::Request("dropModel", n.db, n.model)));
  return 0;
}

int run_export(const Connection& conn, const std::string& ns, const std::string& filter) {
  Namespace n = parse_namespace(ns);
  client::Request req("find", n.db, n.model);
  req.arg("filter", json_object_arg("--filter", filter.empty() ? "{}" : filter));
  auto c = connect(conn);
  print_docs(c.command(std::move(req)));
  return 0;
}

client::ClientOptions client_options(const Connection& conn) {
  client::ClientOptions opts;
  opts.timeout_ms = conn.timeout_ms;
  if (conn.server_key.empty() != conn.client_key.empty())
    throw InputError("BadValue", "CURVE needs both --server-key FILE and --client-key FILE");
  if (!conn.server_key.empty())
    opts.curve = client::load_curve_keys(conn.server_key, conn.client_key);
  return opts;
}

int run_keygen(const std::string& base) {
  CurveKeyPair keys = generate_curve_keypair();
  std::vector<std::string> written;
  Status s = write_curve_keypair(base, keys, &written);
  if (!s.ok()) throw InputError("BadValue", s.message);
  std::printf("%s\n", keys.public_key.c_str());
  std::fprintf(stderr, "wrote %s (public) and %s (secret, keep it private)\n", written[0].c_str(),
               written[1].c_str());
  return 0;
}

}  // namespace mg::cli
