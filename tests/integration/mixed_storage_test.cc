// tests/integration/mixed_storage_test.cc — one memgoosed serving databases on all four
// backends at once (issue 10, item 1; examples/mixed-storage): memory cache, SQLite users,
// WiredTiger analytics, file logs. Each passes the same CRUD checks (insert, find, update,
// delete, count, a unique and a plain index in use), the databases stay isolated from each
// other (same model name, different contents), their models are separate actors (a slow
// model does not hold up the others), and the persistent three come back after a restart.
#define BOOST_TEST_MODULE integration_mixed_storage
#include <thread>

#include "tests/integration/harness.h"

using namespace mg::it;

namespace {

// FindArgs from JSON filter and sort.
mg::client::FindArgs fargs(std::string_view filter, std::string_view sort = {}) {
  return find_args(J(filter), sort.empty() ? std::string() : J(sort));
}

struct Backend {
  std::string db, storage, options;
};
const std::vector<Backend> kBackends = {
    {"cache", "memory", "{}"},
    {"users", "sqlite", R"({"synchronous":"normal"})"},
    {"analytics", "wiredtiger", R"({"cacheSize":"32M","compressor":"snappy"})"},
    {"logs", "file", R"({"persistMode":"immediate"})"},
};

const char* kSchema = R"({"fields":{"email":{"type":"string","required":true,"unique":true},
  "age":{"type":"int","index":true},"tags":{"type":"array"}}})";

// The same CRUD checks on one database.
void crud_checks(Client& c, const Backend& b) {
  BOOST_TEST_CONTEXT("database " << b.db << " (" << b.storage << ")") {
    BOOST_TEST(c.define_model(b.db, "Item", J(kSchema)));
    std::vector<std::string> docs;
    for (int i = 0; i < 50; ++i)
      docs.push_back(J(R"({"_id":)" + std::to_string(i) + R"(,"email":"u)" + std::to_string(i) +
                       "@" + b.db + R"(.io","age":)" + std::to_string(20 + i % 10) +
                       R"(,"tags":["t)" + std::to_string(i % 3) + R"("]})"));
    BOOST_TEST(c.insert_many(b.db, "Item", docs).size() == 50u);
    BOOST_TEST(c.count(b.db, "Item") == 50);
    BOOST_TEST(c.count(b.db, "Item", J(R"({"age":{"$gte":25}})")) == 25);
    // Unique index: a duplicate email is refused and changes nothing.
    EXPECT_ERROR(c,
                 Request("insertOne", b.db, "Item")
                     .arg("doc", J(R"({"email":"u1@)" + b.db + R"(.io","age":1})")),
                 11000);
    BOOST_TEST(c.count(b.db, "Item") == 50);
    // Indexed read: the plan goes through the age index.
    auto found = c.find(b.db, "Item", fargs(R"({"age":21})", R"({"_id":1})"));
    BOOST_REQUIRE(found.size() == 5u);
    BOOST_TEST(MpView(found[0]).get("_id").as_int() == 1);
    auto upd = c.update_many(b.db, "Item", J(R"({"age":21})"), J(R"({"$set":{"vip":true}})"));
    BOOST_TEST(upd.modified == 5);
    BOOST_TEST(c.count(b.db, "Item", J(R"({"vip":true})")) == 5);
    BOOST_TEST(c.delete_many(b.db, "Item", J(R"({"tags":"t0"})")) == 17);
    BOOST_TEST(c.count(b.db, "Item") == 33);
    auto one = c.find_by_id(b.db, "Item", J("2"));
    BOOST_REQUIRE(one.has_value());
    BOOST_TEST(std::string(MpView(*one).get("email").as_str()) == "u2@" + b.db + ".io");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(four_backends_in_one_daemon_pass_the_same_crud_checks) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  for (auto& b : kBackends) BOOST_TEST(c.create_database(b.db, b.storage, J(b.options)));
  Reply list = c.list_databases();
  for (auto& b : kBackends)
    BOOST_TEST(std::string(by_name(list.get("databases"), b.db).get("storage").as_str()) ==
               b.storage);
  for (auto& b : kBackends) crud_checks(c, b);

  // Isolation: the same model name in each database holds only that database's documents.
  for (auto& b : kBackends) {
    auto docs = c.find(b.db, "Item", fargs("{}"));
    BOOST_TEST(docs.size() == 33u);
    for (auto& doc : docs)
      BOOST_TEST(std::string(MpView(doc).get("email").as_str()).find("@" + b.db + ".io") !=
                 std::string::npos);
  }
  // Stats: each database reports its own storage and model.
  Reply st = c.stats();
  for (auto& b : kBackends) {
    MpView db = by_name(st.get("databases"), b.db);
    BOOST_TEST(std::string(db.get("storage").as_str()) == b.storage);
    BOOST_TEST(by_name(db.get("models"), "Item").get("count").as_int() == 33);
  }

  // Restart: the three persistent databases come back with their data, the cache is gone.
  BOOST_TEST(d.stop() == 0);
  d.start();
  Client c2(d.req_endpoint(), client_options());
  for (auto& b : kBackends) {
    if (b.storage == "memory") {
      EXPECT_ERROR(c2, Request("count", b.db, "Item"), 26);
      continue;
    }
    BOOST_TEST(c2.count(b.db, "Item") == 33);
    BOOST_TEST(c2.count(b.db, "Item", J(R"({"vip":true})")) == 4);
    EXPECT_ERROR(
        c2,
        Request("insertOne", b.db, "Item").arg("doc", J(R"({"email":"u1@)" + b.db + R"(.io"})")),
        11000);
  }
}

// Each model is its own actor: a long scan on the memory cache does not stop a write to the
// SQLite users database from being answered meanwhile.
BOOST_AUTO_TEST_CASE(models_on_different_backends_run_in_their_own_actors) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  for (auto& b : kBackends) BOOST_TEST(c.create_database(b.db, b.storage, J(b.options)));
  std::vector<std::string> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(J(R"({"n":)" + std::to_string(i) + "}"));
  for (int k = 0; k < 30; ++k) c.insert_many("cache", "Big", docs);
  // Pipelined: 20 slow sorted finds on the cache, then one insert into each other backend.
  Client slow(d.req_endpoint(), client_options(60000, 64));
  int answered_slow = 0;
  for (int i = 0; i < 20; ++i)
    slow.send_async(Request("find", "cache", "Big")
                        .arg("filter", J(R"({"n":{"$gte":0}})"))
                        .arg("sort", J(R"({"n":-1})")),
                    [&](Reply r) { answered_slow += r.ok(); });
  for (auto& b : kBackends) {
    if (b.storage == "memory") continue;
    auto t0 = std::chrono::steady_clock::now();
    c.insert_one(b.db, "Fast", J(R"({"x":1})"));
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST(ms.count() < 2000.0);
    BOOST_TEST(c.count(b.db, "Fast") == 1);
  }
  slow.drain();
  BOOST_TEST(answered_slow == 20);
}
