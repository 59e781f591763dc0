// tests/integration/server_test.cc — server and database operations of CONTRACT.md §1, §3, §5
// against the real memgoosed: the ready line, ping, hello, stats (per-model counts, indexes,
// operation counts and latencies), listDatabases, createDatabase (created true/false,
// InvalidOptions), dropDatabase (BadValue, NamespaceNotFound, models gone) and flush.
#define BOOST_TEST_MODULE integration_server
#include <algorithm>

#include "tests/integration/harness.h"

using namespace mg::it;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> database_names(Client& c) {
  Reply r = c.list_databases();
  return names_of(r.get("databases"));
}

// The stats entry of one model: databases[name == db].models[name == model].
std::string model_stats(Client& c, std::string_view db, std::string_view model) {
  Reply r = c.stats();
  MpView dbs = r.get("databases");
  MpView d = by_name(dbs, db);
  if (!d.valid()) return {};
  MpView m = by_name(d.get("models"), model);
  return m.valid() ? std::string(m.bytes()) : std::string();
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(ready_line_names_the_endpoints_as_given, OnSharedDaemon) {
  std::string log = daemon.log();
  size_t at = log.find("ready");
  BOOST_TEST_REQUIRE(at != std::string::npos, log);
  std::string line = log.substr(log.rfind('\n', at) + 1);
  line = line.substr(0, line.find('\n'));
  BOOST_TEST(line.find(daemon.req_endpoint()) != std::string::npos, line);
  BOOST_TEST(line.find(daemon.pub_endpoint()) != std::string::npos, line);
}

BOOST_FIXTURE_TEST_CASE(ping_answers_an_empty_result, OnSharedDaemon) {
  Reply r = c.ping();
  BOOST_TEST(r.ok());
  // {id, ok} and nothing else; the id is the client's (an int it chose).
  BOOST_TEST(r.root().count() == 2u, js(r));
  BOOST_TEST(r.get("id").type() == MpType::Int);
  BOOST_TEST(r.get("ok").as_bool());
}

BOOST_FIXTURE_TEST_CASE(hello_describes_the_server, OnSharedDaemon) {
  Reply r = c.hello();
  BOOST_TEST(js(r.get("server")) == "\"memgoosed\"");
  BOOST_TEST_REQUIRE(r.get("version").type() == MpType::Str);
  BOOST_TEST(!r.get("version").as_str().empty());
  BOOST_TEST_REQUIRE(r.get("protocol").type() == MpType::Int, js(r));
  BOOST_TEST(r.get("protocol").as_int() == 1);
  MpView storages = r.get("storages");
  BOOST_TEST_REQUIRE(storages.type() == MpType::Array, js(r));
  bool memory = false;
  ArrayIter it(storages);
  MpView s;
  while (it.next(s)) memory |= s.type() == MpType::Str && s.as_str() == "memory";
  BOOST_TEST(memory, js(r));
  BOOST_TEST(r.get("compressors").type() == MpType::Array, js(r));
}

BOOST_FIXTURE_TEST_CASE(stats_counts_documents_indexes_and_operations, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"email":{"type":"string","unique":true}}})"));
  for (int i = 0; i < 3; ++i)
    c.insert_one("", model, J(R"({"email":"u)" + std::to_string(i) + R"(@x"})"));
  c.find("", model);
  c.find("", model, find_args(J(R"({"email":"u1@x"})")));
  c.count("", model);
  std::string stats = model_stats(c, "default", model);
  BOOST_TEST_REQUIRE(!stats.empty(), js(c.stats()));
  MpView m(stats);
  BOOST_TEST_CONTEXT(js(m)) {
    BOOST_TEST(m.get("count").as_int() == 3);
    BOOST_TEST(m.get("indexes").as_int() == 2);  // _id and email
    BOOST_TEST(m.get("storageBytes").is_number());
    BOOST_TEST(m.get("commits").as_int() == 3);  // three blocking inserts: a commit each
    MpView ops = m.get("ops");
    BOOST_TEST_REQUIRE(ops.type() == MpType::Map);
    BOOST_TEST(ops.get("insertOne").get("count").as_int() == 3);
    BOOST_TEST(ops.get("find").get("count").as_int() == 2);
    BOOST_TEST(ops.get("count").get("count").as_int() == 1);
    BOOST_TEST(ops.get("defineModel").get("count").as_int() == 1);
    BOOST_TEST(!ops.get("updateOne").valid());  // never called
    MpView find = ops.get("find");
    BOOST_TEST_REQUIRE(find.get("meanMicros").is_number());
    BOOST_TEST(find.get("meanMicros").as_double() > 0.0);
    BOOST_TEST(find.get("maxMicros").as_double() >= find.get("meanMicros").as_double());
  }
  // The database entry names its storage.
  Reply r = c.stats();
  BOOST_TEST(js(by_name(r.get("databases"), "default").get("storage")) == "\"memory\"");
}

BOOST_FIXTURE_TEST_CASE(stats_follow_writes_and_drops, OnSharedDaemon) {
  c.insert_many("", model, {J(R"({"_id":1})"), J(R"({"_id":2})")});
  BOOST_TEST(MpView(model_stats(c, "default", model)).get("count").as_int() == 2);
  c.delete_one("", model, J(R"({"_id":1})"));
  std::string s = model_stats(c, "default", model);
  BOOST_TEST(MpView(s).get("count").as_int() == 1);
  BOOST_TEST(MpView(s).get("ops").get("deleteOne").get("count").as_int() == 1);
  c.drop_model("", model);
  s = model_stats(c, "default", model);
  if (!s.empty()) BOOST_TEST(MpView(s).get("count").as_int() == 0, js(s));
}

BOOST_FIXTURE_TEST_CASE(list_databases_always_has_default, OnSharedDaemon) {
  Reply r = c.list_databases();
  MpView d = by_name(r.get("databases"), "default");
  BOOST_TEST_REQUIRE(d.valid(), js(r));
  BOOST_TEST(js(d.get("storage")) == "\"memory\"");
  BOOST_TEST(js(d.get("options")) == "{}");
}

BOOST_FIXTURE_TEST_CASE(create_database_then_again_is_not_created, OnSharedDaemon) {
  BOOST_TEST(c.create_database("srvA", "memory") == true);
  BOOST_TEST(c.create_database("srvA", "memory") == false);
  BOOST_TEST(c.create_database("srvA", "memory", J("{}")) == false);
  BOOST_TEST(c.create_database("default", "memory") == false);
  Reply r = c.list_databases();
  MpView d = by_name(r.get("databases"), "srvA");
  BOOST_TEST_REQUIRE(d.valid(), js(r));
  BOOST_TEST(js(d.get("storage")) == "\"memory\"");
  // Its models are its own.
  c.insert_one("srvA", "X", J(R"({"_id":1})"));
  BOOST_TEST(c.count("srvA", "X") == 1);
  BOOST_TEST(c.count("", "X") == 0);
  c.drop_database("srvA");
}

BOOST_FIXTURE_TEST_CASE(create_database_invalid_options, OnSharedDaemon) {
  BOOST_TEST_REQUIRE(c.create_database("srvB", "memory"));
  // A different config for an existing name.
  EXPECT_ERROR(c, Request("createDatabase", "srvB").arg_str("storage", "file"), 72);
  EXPECT_ERROR(c, Request("createDatabase", "default").arg_str("storage", "sqlite"), 72);
  // An unknown storage.
  EXPECT_ERROR(c, Request("createDatabase", "srvFloppy").arg_str("storage", "floppy"), 72);
  // Options on memory, which takes none.
  EXPECT_ERROR(c,
               Request("createDatabase", "srvOpt")
                   .arg_str("storage", "memory")
                   .arg("options", J(R"({"x":1})")),
               72);
  EXPECT_ERROR(c,
               Request("createDatabase", "srvB")
                   .arg_str("storage", "memory")
                   .arg("options", J(R"({"x":1})")),
               72);
  auto names = database_names(c);
  BOOST_TEST(contains(names, "srvB"));
  BOOST_TEST(!contains(names, "srvFloppy"));
  BOOST_TEST(!contains(names, "srvOpt"));
  Reply r = c.list_databases();
  BOOST_TEST(js(by_name(r.get("databases"), "srvB").get("storage")) == "\"memory\"");
  c.drop_database("srvB");
}

BOOST_FIXTURE_TEST_CASE(drop_default_is_bad_value_and_unknown_is_namespace_not_found,
                        OnSharedDaemon) {
  EXPECT_ERROR(c, Request("dropDatabase", "default"), 2);
  BOOST_TEST(contains(database_names(c), "default"));
  EXPECT_ERROR(c, Request("dropDatabase", "srvNever"), 26);
}

BOOST_FIXTURE_TEST_CASE(dropped_database_takes_its_models, OnSharedDaemon) {
  BOOST_TEST_REQUIRE(c.create_database("srvC", "memory"));
  c.define_model("srvC", "Defined", J(R"({"fields":{"a":{"type":"int"}}})"));
  c.insert_many("srvC", "M", {J(R"({"_id":1})"), J(R"({"_id":2})")});
  Reply drop = c.drop_database("srvC");
  BOOST_TEST(drop.ok());
  BOOST_TEST(!contains(database_names(c), "srvC"));
  EXPECT_ERROR(c, Request("count", "srvC", "M").arg("filter", J("{}")), 26);
  EXPECT_ERROR(c, Request("listModels", "srvC"), 26);
  EXPECT_ERROR(c, Request("dropDatabase", "srvC"), 26);
  // The same name again is a new, empty database.
  BOOST_TEST(c.create_database("srvC", "memory") == true);
  BOOST_TEST(c.count("srvC", "M") == 0);
  Reply models = c.list_models("srvC");
  BOOST_TEST(models.get("models").count() == 0u, js(models));
  c.drop_database("srvC");
}

BOOST_FIXTURE_TEST_CASE(flush_returns_ok_and_needs_a_database, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"_id":1})"));
  BOOST_CHECK_NO_THROW(c.flush(""));
  BOOST_CHECK_NO_THROW(c.flush("default"));
  BOOST_TEST(c.count("", model) == 1);
  EXPECT_ERROR(c, Request("flush", "srvNoSuchDb"), 26);
}

BOOST_FIXTURE_TEST_CASE(id_is_echoed_unchanged_and_absent_when_not_given, OnSharedDaemon) {
  RawSocket raw(daemon.req_endpoint());
  for (std::string id :
       {R"("abc")", "-7", "2.25", R"([1,"two",{"k":null}])", R"({"$binary":"AP8="})"}) {
    for (std::string op : {"ping", "noSuchOp"}) {
      auto reply = raw.request(J(R"({"id":)" + id + R"(,"op":")" + op + R"("})"));
      BOOST_TEST_REQUIRE(reply.has_value(), "no reply to " << op);
      BOOST_TEST(js(MpView(*reply).get("id")) == canon(id), js(*reply));
    }
  }
  auto reply = raw.request(J(R"({"op":"ping"})"));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(*reply) == R"({"ok":true})");
  reply = raw.request(J(R"({"op":"noSuchOp"})"));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(!MpView(*reply).get("id").valid(), js(*reply));
}

BOOST_FIXTURE_TEST_CASE(req_socket_gets_a_reply_too, OnSharedDaemon) {
  RawSocket req(daemon.req_endpoint(), zmq::socket_type::req);
  auto reply = req.request(J(R"({"id":9,"op":"ping"})"));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(*reply) == R"({"id":9,"ok":true})");
}
