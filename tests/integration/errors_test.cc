// tests/integration/errors_test.cc — every error code memgoosed can produce over the wire today
// (CONTRACT.md §6), each with the contract's name, a message, and a check that the failed
// write changed nothing:
//   2 BadValue, 9 FailedToParse, 14 TypeMismatch, 26 NamespaceNotFound, 59 CommandNotFound,
//   66 ImmutableField, 72 InvalidOptions, 121 DocumentValidationFailure, 286
//   ChangeStreamHistoryLost (a private daemon with --change-log-size 5), 10334
//   DocumentTooLarge, 11000 DuplicateKey. 91 ShutdownInProgress is in shutdown_test.cc.
// Not reachable over the wire, so not tested here: 1 InternalError (only a daemon bug produces
// it), 13 Unauthorized (no security configuration yet), 1001 StorageError (needs a failing disk
// under a persistent backend).
#define BOOST_TEST_MODULE integration_errors
#include "tests/integration/harness.h"

using namespace mg::it;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

constexpr size_t kMiB = 1 << 20;

// {a: {a: ... {a: 1}}} with `levels` maps inside the document (the document not counted).
std::string nested_doc(int levels) {
  std::string out;
  MpWriter w(out);
  w.map_header(1);
  for (int i = 0; i < levels; ++i) {
    w.str("a");
    w.map_header(1);
  }
  w.str("a");
  w.integer(1);
  return out;
}

// {_id: id, blob: <bin of n bytes>}
std::string blob_doc(int64_t id, size_t n) {
  std::string out;
  MpWriter w(out);
  w.map_header(2);
  w.str("_id");
  w.integer(id);
  w.str("blob");
  w.bin(std::string(n, '\xab'));
  return out;
}

Request update_req(std::string_view model, std::string_view filter, std::string_view update) {
  return std::move(
      Request("updateOne", "", model).arg("filter", J(filter)).arg("update", J(update)));
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(bad_value_missing_op, OnSharedDaemon) {
  RawSocket raw(daemon.req_endpoint());
  auto reply = raw.request(J(R"({"id":5,"model":"x"})"));
  BOOST_TEST_REQUIRE(reply.has_value());
  MpView r(*reply);
  BOOST_TEST(js(r.get("id")) == "5");
  BOOST_TEST(js(r.get("error").get("code")) == "2", js(r));
  BOOST_TEST(js(r.get("error").get("name")) == "\"BadValue\"");
  reply = raw.request(J("{}"));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(MpView(*reply).get("error").get("code")) == "2", js(*reply));
}

BOOST_FIXTURE_TEST_CASE(bad_value_names, OnSharedDaemon) {
  std::string too_long(65, 'a');
  for (std::string bad : {"../x", "a.b", "1abc", "-a", "a b", "a/b", "$x", too_long.c_str()}) {
    BOOST_TEST_CONTEXT("name '" << bad << "'") {
      EXPECT_ERROR(c, Request("insertOne", "", bad).arg("doc", J(R"({"a":1})")), 2);
      EXPECT_ERROR(c, Request("find", "", bad).arg("filter", J("{}")), 2);
      EXPECT_ERROR(c, Request("defineModel", "", bad).arg("schema", J("{}")), 2);
      // Names are checked before anything else: not NamespaceNotFound.
      EXPECT_ERROR(c, Request("count", bad, "M"), 2);
      EXPECT_ERROR(c, Request("createDatabase", bad).arg_str("storage", "memory"), 2);
      EXPECT_ERROR(c, Request("dropDatabase", bad), 2);
    }
  }
  // An empty name on the wire (the client leaves empty names out, so send it raw).
  RawSocket raw(daemon.req_endpoint());
  auto reply = raw.request(J(R"({"op":"insertOne","model":"","doc":{"a":1}})"));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(MpView(*reply).get("error").get("code")) == "2", js(*reply));
  // A model operation without a model.
  EXPECT_ERROR(c, Request("find").arg("filter", J("{}")), 2);
  // 64 characters is still a valid name.
  std::string longest = "M" + std::string(63, 'x');
  c.insert_one("", longest, J(R"({"_id":1})"));
  BOOST_TEST(c.count("", longest) == 1);
  Reply models = c.list_models("");
  BOOST_TEST(!by_name(models.get("models"), "../x").valid());
}

BOOST_FIXTURE_TEST_CASE(bad_value_arguments, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"_id":1,"a":1})"));
  auto find = [&](std::string_view filter) {
    return std::move(Request("find", "", model).arg("filter", J(filter)));
  };
  EXPECT_ERROR(c, find("{}").arg_int("limit", -1), 2);
  EXPECT_ERROR(c, find("{}").arg_int("skip", -1), 2);
  EXPECT_ERROR(c, find(R"({"a":{"$foo":1}})"), 2);                      // unknown filter operator
  EXPECT_ERROR(c, find(R"({"a":{"$regex":"("}})"), 2);                  // invalid regex
  EXPECT_ERROR(c, find("{}").arg("sort", J(R"({"a":2})")), 2);          // sort direction
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"a":2})"), 2);  // no operators
  EXPECT_ERROR(
      c, Request("updateMany", "", model).arg("filter", J("{}")).arg("update", J(R"({"a":2})")), 2);
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$frobnicate":{"a":2}})"), 2);
  EXPECT_ERROR(
      c, Request("defineModel", "", model).arg("schema", J(R"({"fields":{"a":{"type":"color"}}})")),
      2);
  BOOST_TEST(js(*c.find_by_id("", model, J("1"))) == canon(R"({"_id":1,"a":1})"));
}

BOOST_FIXTURE_TEST_CASE(bad_value_documents, OnSharedDaemon) {
  auto insert = [&](std::string_view doc) {
    return std::move(Request("insertOne", "", model).arg("doc", doc));
  };
  EXPECT_ERROR(c, insert(J(R"({"$a":1})")), 2);                               // leading $
  EXPECT_ERROR(c, insert(J(R"({"a.b":1})")), 2);                              // dot
  EXPECT_ERROR(c, insert(J(R"({"":1})")), 2);                                 // empty
  EXPECT_ERROR(c, insert(std::string("\x81\xa1m\x81\xa3x\x00y\x01", 9)), 2);  // {m: {"x\0y": 1}}
  EXPECT_ERROR(c, insert(J(R"({"_id":null})")), 2);                           // nil _id
  EXPECT_ERROR(c, insert(J(R"({"_id":[1]})")), 2);                            // array _id
  // Nesting: 99 maps inside the document (100 levels) is fine, 100 inside is not.
  std::string id = c.insert_one("", model, nested_doc(99));
  BOOST_TEST(js(*c.find_by_id("", model, id, J(R"({"_id":0})"))) == js(nested_doc(99)));
  EXPECT_ERROR(c, insert(nested_doc(100)), 2);
  // Values the envelope itself refuses, sent raw so that a reply without the request's `id`
  // (which the client could not match) fails here instead of timing out.
  RawSocket raw(daemon.req_endpoint());
  const std::string bad_values[] = {
      std::string("\x81\xa1"
                  "a"
                  "\xd4\x05\x00",
                  6),  // {a: fixext1 of type 5}
      std::string("\x81\xa1"
                  "a"
                  "\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
                  12),  // uint64 2^63
      nested_doc(300),
  };
  for (const auto& doc : bad_values) {
    std::string body = J(R"({"id":77,"op":"insertOne","model":")" + model + R"(","doc":0})");
    body.resize(body.size() - 1);  // drop the placeholder 0, append the raw document
    body += doc;
    auto reply = raw.request(body, 5000);
    BOOST_TEST_REQUIRE(reply.has_value());
    MpView r(*reply);
    BOOST_TEST_CONTEXT(js(r)) {
      BOOST_TEST(js(r.get("error").get("code")) == "2");
      BOOST_TEST(js(r.get("error").get("name")) == "\"BadValue\"");
      BOOST_TEST(js(r.get("id")) == "77");  // §3: echoed unchanged
    }
  }
  BOOST_TEST(c.count("", model) == 1);
}

BOOST_FIXTURE_TEST_CASE(failed_to_parse_for_a_body_that_is_not_a_map, OnSharedDaemon) {
  RawSocket raw(daemon.req_endpoint());
  const std::string bodies[] = {
      std::string("\xc1", 1),                  // never used
      std::string("\x93\x01\x02\x03", 4),      // [1, 2, 3]
      std::string("\x2a", 1),                  // 42
      std::string("\xa4ping", 5),              // "ping"
      std::string("\x82\xa2op", 4),            // truncated map
      std::string("\xdf\xff\xff\xff\xff", 5),  // map32 claiming 4G entries
      std::string("garbage\x00\xff", 9),
  };
  for (const auto& body : bodies) {
    auto reply = raw.request(body);
    BOOST_TEST_REQUIRE(reply.has_value(), "no reply to " << body.size() << " bytes");
    MpView r(*reply);
    BOOST_TEST_CONTEXT(js(r)) {
      BOOST_TEST(!r.get("id").valid());
      BOOST_TEST(js(r.get("ok")) == "false");
      BOOST_TEST(js(r.get("error").get("code")) == "9");
      BOOST_TEST(js(r.get("error").get("name")) == "\"FailedToParse\"");
    }
  }
  // The connection is still usable.
  auto pong = raw.request(J(R"({"id":1,"op":"ping"})"));
  BOOST_TEST_REQUIRE(pong.has_value());
  BOOST_TEST(js(*pong) == R"({"id":1,"ok":true})");
}

// An insertMany's documents, when `docs` is the body's last key, are checked once, by the model
// (Envelope::docs_unchecked), not by the front door: a document the front door used to refuse
// must get the same error code from there, and a body whose documents are not well-formed
// MessagePack still gets FailedToParse without the request's id. Nothing is inserted.
BOOST_FIXTURE_TEST_CASE(insert_many_documents_checked_once_by_the_model, OnSharedDaemon) {
  RawSocket raw(daemon.req_endpoint());
  // {id: 78, op: insertMany, model, docs: [{ok: 1}, <doc>]}, `docs` last, <doc> raw.
  auto body_with = [&](const std::string& doc) {
    std::string body = J(R"({"id":78,"op":"insertMany","model":")" + model + R"(","docs":0})");
    body.resize(body.size() - 1);
    body += "\x92";
    body += J(R"({"ok":1})");
    body += doc;
    return body;
  };
  struct Case {
    std::string doc;
    int code;
  };
  const Case invalid[] = {
      {std::string("\x81\xa1"
                   "a"
                   "\xd4\x05\x00",
                   6),
       2},  // an extension other than the timestamp
      {std::string("\x81\xa1"
                   "a"
                   "\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
                   12),
       2},                    // uint64 2^63
      {nested_doc(300), 2},   // too deep
      {J(R"({"$a":1})"), 2},  // a field name
      {J(R"([1,2])"), 14},    // not a map
  };
  for (const auto& [doc, code] : invalid) {
    auto reply = raw.request(body_with(doc), 5000);
    BOOST_TEST_REQUIRE(reply.has_value());
    MpView r(*reply);
    BOOST_TEST_CONTEXT(js(r)) {
      BOOST_TEST(js(r.get("error").get("code")) == std::to_string(code));
      BOOST_TEST(js(r.get("error").get("index")) == "1");
      BOOST_TEST(js(r.get("id")) == "78");
    }
  }
  const std::string malformed[] = {
      body_with(std::string("\x82\xa1"
                            "a",
                            3)),          // truncated document
      body_with(J(R"({"a":1})")) + "x",   // trailing bytes
      body_with(std::string("\xc1", 1)),  // never used
      body_with(std::string("\x81\xa1"
                            "a\xdb\xff\xff\xff\xff",
                            8)),                    // a string claiming 4 GiB
      body_with(std::string("\x81\xa2$a\x91", 5)),  // a bad name, then truncated
  };
  for (const auto& body : malformed) {
    auto reply = raw.request(body, 5000);
    BOOST_TEST_REQUIRE(reply.has_value());
    MpView r(*reply);
    BOOST_TEST_CONTEXT(js(r)) {
      BOOST_TEST(js(r.get("error").get("code")) == "9");
      BOOST_TEST(js(r.get("error").get("name")) == "\"FailedToParse\"");
      BOOST_TEST(!r.get("id").valid());  // §3, as for any body that is not a map
    }
  }
  // An array header claiming more documents than the body holds.
  std::string liar = J(R"({"id":79,"op":"insertMany","model":")" + model + R"(","docs":0})");
  liar.resize(liar.size() - 1);
  liar += std::string("\xdc\x00\x05", 3) + J(R"({"a":1})");
  auto reply = raw.request(liar, 5000);
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(MpView(*reply).get("error").get("code")) == "9");
  BOOST_TEST(c.count("", model) == 0);
  // The connection still works, and a good body is inserted.
  reply = raw.request(body_with(J(R"({"fine":true})")), 5000);
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(MpView(*reply).get("insertedCount")) == "2");
  BOOST_TEST(c.count("", model) == 2);
}

BOOST_FIXTURE_TEST_CASE(type_mismatch_for_arguments_of_the_wrong_type, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"_id":1,"s":"text"})"));
  EXPECT_ERROR(c, Request("find", "", model).arg("filter", J("[1,2]")), 14);
  EXPECT_ERROR(c, Request("count", "", model).arg("filter", J(R"("all")")), 14);
  EXPECT_ERROR(c, Request("find", "", model).arg("filter", J("{}")).arg_str("limit", "ten"), 14);
  EXPECT_ERROR(c, Request("insertMany", "", model).arg("docs", J(R"({"a":1})")), 14);
  EXPECT_ERROR(c, Request("insertOne", "", model).arg("doc", J(R"("not a document")")), 14);
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$inc":{"s":1}})"), 14);
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$push":{"s":1}})"), 14);
  EXPECT_ERROR(
      c, Request("createDatabase", "tmOpts").arg_str("storage", "memory").arg("options", J("[1]")),
      14);
  RawSocket raw(daemon.req_endpoint());
  for (std::string body :
       {R"({"op":5})", R"({"op":"find","db":5,"model":"x"})", R"({"op":"find","model":["x"]})"}) {
    auto reply = raw.request(J(body));
    BOOST_TEST_REQUIRE(reply.has_value());
    BOOST_TEST(js(MpView(*reply).get("error").get("code")) == "14", body << " -> " << js(*reply));
  }
  BOOST_TEST(js(*c.find_by_id("", model, J("1"))) == canon(R"({"_id":1,"s":"text"})"));
  BOOST_TEST(c.count("", model) == 1);
}

BOOST_FIXTURE_TEST_CASE(namespace_not_found_for_an_unknown_database, OnSharedDaemon) {
  EXPECT_ERROR(c, Request("find", "noSuchDb", "M").arg("filter", J("{}")), 26);
  EXPECT_ERROR(c, Request("insertOne", "noSuchDb", "M").arg("doc", J(R"({"a":1})")), 26);
  EXPECT_ERROR(c, Request("defineModel", "noSuchDb", "M").arg("schema", J("{}")), 26);
  EXPECT_ERROR(c, Request("listModels", "noSuchDb"), 26);
  EXPECT_ERROR(c, Request("flush", "noSuchDb"), 26);
  EXPECT_ERROR(c, Request("dropDatabase", "noSuchDb"), 26);
  BOOST_TEST(!by_name(c.list_databases().get("databases"), "noSuchDb").valid());
}

BOOST_FIXTURE_TEST_CASE(command_not_found_for_an_unknown_op, OnSharedDaemon) {
  Error e = EXPECT_ERROR(c, Request("frobnicate"), 59);
  BOOST_TEST(e.message().find("frobnicate") != std::string::npos, e.message());
  EXPECT_ERROR(c, Request("Ping"), 59);  // ops are case-sensitive
  EXPECT_ERROR(c, Request("frobnicate", "", model), 59);
  EXPECT_ERROR(c, Request(""), 59);
}

BOOST_FIXTURE_TEST_CASE(immutable_field_when_an_update_touches_id, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"_id":1,"a":1})"));
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$set":{"_id":2}})"), 66);
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$unset":{"_id":""}})"), 66);
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$rename":{"_id":"x"}})"), 66);
  EXPECT_ERROR(c, update_req(model, R"({"_id":1})", R"({"$inc":{"_id":1}})"), 66);
  EXPECT_ERROR(c,
               Request("replaceOne", "", model)
                   .arg("filter", J(R"({"_id":1})"))
                   .arg("replacement", J(R"({"_id":2,"a":2})")),
               66);
  EXPECT_ERROR(c,
               Request("findOneAndUpdate", "", model)
                   .arg("filter", J(R"({"_id":1})"))
                   .arg("update", J(R"({"$set":{"_id":3}})")),
               66);
  BOOST_TEST(js(*c.find_by_id("", model, J("1"))) == canon(R"({"_id":1,"a":1})"));
  BOOST_TEST(c.count("", model) == 1);
  // Setting _id to the value it has is not a change of _id.
  auto r = c.update_one("", model, J(R"({"_id":1})"), J(R"({"$set":{"_id":1,"a":5}})"));
  BOOST_TEST(r.modified == 1);
}

BOOST_FIXTURE_TEST_CASE(invalid_options_for_database_options, OnSharedDaemon) {
  EXPECT_ERROR(c, Request("createDatabase", "ioA").arg_str("storage", "floppy"), 72);
  EXPECT_ERROR(c, Request("createDatabase", "default").arg_str("storage", "sqlite"), 72);
  EXPECT_ERROR(
      c,
      Request("createDatabase", "ioB").arg_str("storage", "memory").arg("options", J(R"({"x":1})")),
      72);
  BOOST_TEST(!by_name(c.list_databases().get("databases"), "ioA").valid());
  BOOST_TEST(!by_name(c.list_databases().get("databases"), "ioB").valid());
}

BOOST_FIXTURE_TEST_CASE(document_validation_failure, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"email":{"type":"string","required":true}}})"));
  Error e = EXPECT_ERROR(c, Request("insertOne", "", model).arg("doc", J(R"({"age":1})")), 121);
  BOOST_TEST(names_of(e.details().get("errors"), "path") == std::vector<std::string>{"email"});
  BOOST_TEST(c.count("", model) == 0);
}

BOOST_FIXTURE_TEST_CASE(document_too_large, OnSharedDaemon) {
  // 17 MiB: over the 16 MiB document limit, under the daemon's 64 MiB request limit.
  Client big(daemon.req_endpoint(), client_options(60000));
  EXPECT_ERROR(big, Request("insertOne", "", model).arg("doc", blob_doc(1, 17 * kMiB)), 10334);
  Error many = EXPECT_ERROR(big,
                            Request("insertMany", "", model)
                                .arg_array("docs", {J(R"({"_id":0})"), blob_doc(1, 17 * kMiB)}),
                            10334);
  BOOST_TEST(many.details().get("index").as_int() == 1, js(many.details()));
  BOOST_TEST(big.count("", model) == 0);
  // Exactly 16 MiB encoded is allowed; growing it past the limit is not.
  std::string at_limit = blob_doc(2, 16 * kMiB - 16);
  BOOST_TEST_REQUIRE(at_limit.size() == 16 * kMiB);
  big.insert_one("", model, at_limit);
  EXPECT_ERROR(big, update_req(model, R"({"_id":2})", R"({"$set":{"more":"x"}})"), 10334);
  EXPECT_ERROR(big,
               Request("replaceOne", "", model)
                   .arg("filter", J(R"({"_id":2})"))
                   .arg("replacement", blob_doc(2, 17 * kMiB)),
               10334);
  BOOST_TEST(js(*big.find_by_id("", model, J("2"), J(R"({"blob":0})"))) == R"({"_id":2})");
  auto doc = big.find_by_id("", model, J("2"));
  BOOST_TEST_REQUIRE(doc.has_value());
  BOOST_TEST(doc->size() == 16 * kMiB);
  BOOST_TEST(big.count("", model) == 1);
}

BOOST_FIXTURE_TEST_CASE(duplicate_key, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"_id":"k","v":1})"));
  Error e =
      EXPECT_ERROR(c, Request("insertOne", "", model).arg("doc", J(R"({"_id":"k","v":2})")), 11000);
  BOOST_TEST(js(e.details().get("keyPattern")) == canon(R"({"_id":1})"));
  BOOST_TEST(js(e.details().get("keyValue")) == canon(R"({"_id":"k"})"));
  // 5 and 5.0 are the same _id.
  c.insert_one("", model, J(R"({"_id":5})"));
  EXPECT_ERROR(c, Request("insertOne", "", model).arg("doc", J(R"({"_id":5.0})")), 11000);
  BOOST_TEST(js(*c.find_by_id("", model, J(R"("k")"))) == canon(R"({"_id":"k","v":1})"));
  BOOST_TEST(c.count("", model) == 2);
}

BOOST_FIXTURE_TEST_CASE(change_stream_history_lost, OwnDaemon) {
  start({"--change-log-size", "5"});
  Client c(daemon->req_endpoint(), client_options());
  for (int i = 0; i < 10; ++i) c.insert_one("", model, J(R"({"_id":)" + std::to_string(i) + "}"));
  EXPECT_ERROR(c, Request("changes", "", model).arg_int("after", 0), 286);
  EXPECT_ERROR(c, Request("changes", "", model).arg_int("after", 4), 286);
  // The last five are still there.
  auto kept = c.changes("", model, 5);
  BOOST_TEST(kept.last_seq == 10);
  std::string seqs;
  for (auto& e : kept.events) seqs += js(MpView(e).get("seq")) + " ";
  BOOST_TEST(seqs == "6 7 8 9 10 ");
  BOOST_TEST(daemon->stop() == 0, daemon->log());
}
