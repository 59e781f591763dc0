// tests/integration/limits_test.cc — the limits of PROTOCOL.md §12 that the front door and the
// engine enforce (issue 9 item 7): insertMany batch size, number of databases, number of
// models, regex cost. Each is exceeded on a private daemon with small limits: the request gets
// BadValue naming the limit and its config key, nothing is applied, and the daemon keeps
// serving. (Request size is in robustness_test.cc, document size and nesting in errors_test.cc.)
#define BOOST_TEST_MODULE integration_limits
#include "tests/integration/harness.h"

using namespace mg::it;

namespace {

std::vector<std::string> numbered(int n) {
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) docs.push_back(J(R"({"n": )" + std::to_string(i) + "}"));
  return docs;
}

void expect_limit(Client& c, Request req, const std::string& key) {
  Error e = EXPECT_ERROR(c, std::move(req), 2);
  BOOST_TEST(e.message().find(key) != std::string::npos, e.message());
  c.ping();  // still serving
}

Request insert_many(const std::string& model, int n) {
  return Request("insertMany", "", model).arg_array("docs", numbered(n));
}

Request insert_one(const std::string& db, const std::string& model) {
  return Request("insertOne", db, model).arg("doc", J(R"({"x": 1})"));
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(insert_many_batch_size, OwnDaemon) {
  start({"--max-batch-docs", "10"});
  Client c(daemon->req_endpoint(), client_options());
  expect_limit(c, insert_many(model, 11), "max_batch_docs");
  BOOST_TEST(c.count("", model, J("{}")) == 0);  // all or nothing: none inserted
  EXPECT_OK(c, insert_many(model, 10));
  BOOST_TEST(c.count("", model, J("{}")) == 10);
}

BOOST_FIXTURE_TEST_CASE(number_of_databases, OwnDaemon) {
  start({"--max-databases", "3"});  // `default` + two
  Client c(daemon->req_endpoint(), client_options());
  BOOST_TEST(c.create_database("one", "memory"));
  BOOST_TEST(c.create_database("two", "memory"));
  expect_limit(c, Request("createDatabase", "three").arg_str("storage", "memory"), "max_databases");
  BOOST_TEST(!c.create_database("two", "memory"));  // the same again is still {created: false}
  c.drop_database("two");
  BOOST_TEST(c.create_database("three", "memory"));  // room again after a drop
}

BOOST_FIXTURE_TEST_CASE(number_of_models, OwnDaemon) {
  start({"--max-models", "3"});
  Client c(daemon->req_endpoint(), client_options());
  EXPECT_OK(c, insert_one("default", "M1"));
  BOOST_TEST(c.create_database("other", "memory"));
  EXPECT_OK(c, insert_one("other", "A"));  // counted over every database
  EXPECT_OK(c, insert_one("other", "B"));
  expect_limit(c, insert_one("default", "M2"), "max_models");
  expect_limit(c, Request("defineModel", "", "M2").arg("schema", J("{}")), "max_models");
  BOOST_TEST(c.count("", "M2", J("{}")) == 0);  // a read of an unknown model is still fine
  EXPECT_OK(c, insert_one("default", "M1"));    // existing models keep working
  // dropModel keeps the model's actor (its seq goes on), dropDatabase frees them.
  c.drop_database("other");
  EXPECT_OK(c, insert_one("default", "M2"));
}

BOOST_AUTO_TEST_CASE(default_limits_are_reported_in_the_message) {
  DaemonProcess p;
  Client c(p.req_endpoint(), client_options());
  Error e = EXPECT_ERROR(c, insert_many("Big", 100001), 2);
  BOOST_TEST(e.message().find("100000") != std::string::npos, e.message());
  EXPECT_OK(c, insert_many("Big", 1000));
  BOOST_TEST(p.stop() == 0);
}

BOOST_AUTO_TEST_CASE(regex_cost) {
  DaemonProcess p;
  Client c(p.req_endpoint(), client_options());
  c.insert_one("", "Re", J(R"({"s": "abc"})"));
  auto find = [](const std::string& pattern) {
    std::string filter;
    mg::MpWriter w(filter);
    w.map_header(1);
    w.str("s");
    w.map_header(1);
    w.str("$regex");
    w.str(pattern);
    return Request("find", "", "Re").arg("filter", filter);
  };
  expect_limit(c, find(std::string(33 << 10, 'a')), "32 KiB");
  std::string heavy;
  for (int i = 0; i < 200; ++i) heavy += "(?s:.{1000})";  // small text, huge program
  expect_limit(c, find(heavy), "max_mem");
  // The same limits for a schema's `match`.
  std::string schema;
  mg::MpWriter w(schema);
  w.map_header(1);
  w.str("fields");
  w.map_header(1);
  w.str("s");
  w.map_header(2);
  w.str("type"), w.str("string");
  w.str("match"), w.str(heavy);
  expect_limit(c, Request("defineModel", "", "ReSchema").arg("schema", schema), "max_mem");
  auto docs = c.find("", "Re", find_args(J(R"({"s": {"$regex": "^a"}})")));
  BOOST_TEST(docs.size() == 1u);
  BOOST_TEST(p.stop() == 0);
}
