// The request envelope (protocol/envelope.h): what parse_envelope and read_checked_envelope
// extract, and that Envelope::arg answers exactly as a lookup in the body would — for present
// and absent keys, repeated keys (the first counts), and bodies with more keys than its table.
#define BOOST_TEST_MODULE envelope
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/ejson.h"
#include "protocol/envelope.h"

using namespace mg;

namespace {

std::string J(std::string_view json) {
  return mp_from_json(json);
}

// Both parsers agree on the fields, and every argument lookup agrees with MpView::get.
void check_args(const std::string& body, std::initializer_list<std::string_view> keys) {
  Envelope a, b;
  BOOST_REQUIRE(parse_envelope(body, a).ok());
  read_checked_envelope(body, b);
  BOOST_TEST(a.op == b.op);
  BOOST_TEST(a.db == b.db);
  BOOST_TEST(a.model == b.model);
  BOOST_TEST(a.id == b.id);
  auto same = [](MpView x, MpView y) {
    return x.valid() == y.valid() && (!x.valid() || x.bytes() == y.bytes());
  };
  for (std::string_view k : keys) {
    BOOST_TEST(same(a.arg(k), a.body.get(k)), "key " << k);
    BOOST_TEST(same(b.arg(k), a.body.get(k)), "key " << k);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(fields_and_arguments) {
  std::string body =
      J(R"({"id":7,"op":"findOne","db":"shop","model":"Users","filter":{"email":"a@b.c"}})");
  Envelope env;
  BOOST_REQUIRE(parse_envelope(body, env).ok());
  BOOST_TEST(env.op == "findOne");
  BOOST_TEST(env.db == "shop");
  BOOST_TEST(env.model == "Users");
  BOOST_TEST(env.id == std::string_view("\x07", 1));
  MpView filter = env.arg("filter");
  BOOST_REQUIRE(filter.valid());
  BOOST_TEST(filter.get("email").as_str() == "a@b.c");
  BOOST_TEST(!env.arg("projection").valid());
  BOOST_TEST(!env.arg("").valid());
  BOOST_TEST(!env.arg("filte").valid());
  check_args(body, {"id", "op", "db", "model", "filter", "sort", "limit"});
}

BOOST_AUTO_TEST_CASE(defaults_without_db_or_id) {
  std::string body = J(R"({"op":"ping"})");
  Envelope a, b;
  BOOST_REQUIRE(parse_envelope(body, a).ok());
  read_checked_envelope(body, b);
  BOOST_TEST(a.db == "default");
  BOOST_TEST(b.db == "default");
  BOOST_TEST(a.id.empty());
  BOOST_TEST(b.id.empty());
  BOOST_TEST(a.model.empty());
}

BOOST_AUTO_TEST_CASE(the_first_of_repeated_keys_counts) {
  // JSON objects cannot repeat a key: write the map by hand.
  std::string body;
  MpWriter w(body);
  w.map_header(4);
  w.str("op"), w.str("find");
  w.str("limit"), w.integer(1);
  w.str("limit"), w.integer(2);
  w.str("op"), w.str("count");
  Envelope env;
  BOOST_REQUIRE(parse_envelope(body, env).ok());
  BOOST_TEST(env.op == "find");
  BOOST_TEST(env.arg("limit").as_int() == 1);
  check_args(body, {"op", "limit"});
}

BOOST_AUTO_TEST_CASE(more_keys_than_the_table_holds) {
  std::string json = R"({"op":"find","model":"M")";
  for (int i = 0; i < 20; ++i) json += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  json += "}";
  std::string body = J(json);
  Envelope env;
  BOOST_REQUIRE(parse_envelope(body, env).ok());
  BOOST_TEST(env.nargs == 22u);
  BOOST_TEST(env.arg("k0").as_int() == 0);
  BOOST_TEST(env.arg("k19").as_int() == 19);
  BOOST_TEST(!env.arg("k20").valid());
  check_args(body, {"op", "model", "k0", "k9", "k10", "k11", "k19", "k20"});
}
