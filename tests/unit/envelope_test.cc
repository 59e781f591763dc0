// The request envelope (protocol/envelope.h): what parse_envelope and read_checked_envelope
// extract, and that Envelope::arg answers exactly as a lookup in the body would — for present
// and absent keys, repeated keys (the first counts), and bodies with more keys than its table.
#define BOOST_TEST_MODULE envelope
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

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

namespace {

// {op: <op>, model: "M", <key>: <array>}: `docs_bytes` appended raw as the last value.
std::string many_body(std::string_view op, std::string_view key, const std::string& docs_bytes) {
  std::string body;
  MpWriter w(body);
  w.map_header(3);
  w.str("op"), w.str(op);
  w.str("model"), w.str("M");
  w.str(key);
  body += docs_bytes;
  return body;
}

std::string array_of(std::initializer_list<std::string> items) {
  std::string out;
  MpWriter w(out);
  w.array_header(uint32_t(items.size()));
  for (auto& i : items) out += i;
  return out;
}

Status slice(const std::string& body, std::vector<std::string_view>& docs, bool& malformed) {
  Envelope env;
  Status s = parse_envelope(body, env);
  BOOST_REQUIRE(s.ok());
  BOOST_REQUIRE(env.docs_unchecked);
  Envelope again;
  read_checked_envelope(body, again);
  BOOST_TEST(again.docs_unchecked);
  ValidateOptions opts;
  opts.document_names = true;
  return insert_many_documents(env, env.arg("docs"), opts, docs, malformed);
}

}  // namespace

BOOST_AUTO_TEST_CASE(insert_many_documents_are_left_to_one_strict_pass) {
  std::string good = array_of({J(R"({"a":1})"), J(R"({"b":"x","c":[1,{"d":2}]})")});
  std::vector<std::string_view> docs;
  bool malformed = true;
  std::string body = many_body("insertMany", "docs", good);  // the slices point into it
  Status s = slice(body, docs, malformed);
  BOOST_TEST(s.ok());
  BOOST_TEST(!malformed);
  BOOST_REQUIRE(docs.size() == 2u);
  BOOST_TEST(docs[0] == J(R"({"a":1})"));
  BOOST_TEST(docs[1] == J(R"({"b":"x","c":[1,{"d":2}]})"));
}

BOOST_AUTO_TEST_CASE(an_invalid_document_keeps_its_code_and_index) {
  struct Case {
    std::string doc;
    ErrorCode code;
  };
  const Case cases[] = {
      {J(R"({"$a":1})"), ErrorCode::BadValue},
      {std::string("\x81\xa1"
                   "a"
                   "\xd4\x05\x00",
                   6),
       ErrorCode::BadValue},  // extension type 5
      {J("[1]"), ErrorCode::TypeMismatch},
  };
  for (const auto& c : cases) {
    std::vector<std::string_view> docs;
    bool malformed = true;
    std::string body = many_body("insertMany", "docs", array_of({J(R"({"a":1})"), c.doc}));
    Status s = slice(body, docs, malformed);
    BOOST_TEST(int(s.code) == int(c.code));
    BOOST_TEST(s.index == 1);
    BOOST_TEST(!malformed);
  }
}

BOOST_AUTO_TEST_CASE(malformed_documents_are_failed_to_parse_of_the_body) {
  const std::string bodies[] = {
      many_body("insertMany", "docs",
                array_of({J(R"({"a":1})"), std::string("\x82\xa1"
                                                       "a",
                                                       3)})),
      many_body("insertMany", "docs", array_of({J(R"({"a":1})")}) + "x"),
      many_body("insertMany", "docs", std::string("\x93", 1) + J(R"({"a":1})")),
      many_body("insertMany", "docs", std::string("\x91\xc1", 2)),
      // a bad field name first, then truncated: the body's shape decides the code
      many_body("insertMany", "docs", std::string("\x91\x81\xa2$a\x91", 6)),
      many_body("insertMany", "docs", std::string("\xdd\xff\xff\xff\xff", 5)),
  };
  for (const auto& body : bodies) {
    std::vector<std::string_view> docs;
    bool malformed = false;
    Status s = slice(body, docs, malformed);
    BOOST_TEST(int(s.code) == int(ErrorCode::FailedToParse));
    BOOST_TEST(malformed);
    BOOST_TEST(s.index == -1);
  }
}

BOOST_AUTO_TEST_CASE(other_bodies_are_still_checked_whole_by_parse_envelope) {
  std::string truncated =
      array_of({std::string("\x82\xa1"
                            "a",
                            3)});
  const std::string bodies[] = {
      many_body("insertOne", "docs", truncated),  // not an insertMany
      many_body("insertMany", "doc", truncated),  // not its docs
  };
  for (const auto& body : bodies) {
    Envelope env;
    BOOST_TEST(int(parse_envelope(body, env).code) == int(ErrorCode::FailedToParse));
  }
  // docs before another key: checked (the walk must find the key after it)
  std::string body;
  MpWriter w(body);
  w.map_header(3);
  w.str("op"), w.str("insertMany");
  w.str("docs");
  body += truncated;
  w.str("model"), w.str("M");
  Envelope env;
  BOOST_TEST(int(parse_envelope(body, env).code) == int(ErrorCode::FailedToParse));
  // op after docs: the rule needs op first, so the documents are checked here
  std::string late;
  MpWriter l(late);
  l.map_header(2);
  l.str("docs");
  late += truncated;
  l.str("op"), l.str("insertMany");
  BOOST_TEST(int(parse_envelope(late, env).code) == int(ErrorCode::FailedToParse));
  // a second `docs` last is not the one the handler reads: checked
  std::string twice;
  MpWriter t(twice);
  t.map_header(3);
  t.str("op"), t.str("insertMany");
  t.str("docs"), t.array_header(0);
  t.str("docs");
  twice += truncated;
  BOOST_TEST(int(parse_envelope(twice, env).code) == int(ErrorCode::FailedToParse));
  // more pairs than the argument table holds: lookups would walk the body, so it is checked
  std::string wide;
  MpWriter x(wide);
  x.map_header(Envelope::kMaxArgs + 1);
  x.str("op"), x.str("insertMany");
  for (uint32_t i = 0; i + 2 < Envelope::kMaxArgs + 1; ++i)
    x.str("k" + std::to_string(i)), x.integer(i);
  x.str("docs");
  BOOST_REQUIRE(parse_envelope(wide + array_of({J(R"({"a":1})")}), env).ok());
  BOOST_TEST(!env.docs_unchecked);
  BOOST_TEST(int(parse_envelope(wide + truncated, env).code) == int(ErrorCode::FailedToParse));
  // a well-formed body keeps the flag off when docs is not last
  std::string ok = J(R"({"op":"insertMany","docs":[{"a":1}],"model":"M"})");
  BOOST_REQUIRE(parse_envelope(ok, env).ok());
  BOOST_TEST(!env.docs_unchecked);
}
