// tests/integration/models_test.cc — models and schemas (CONTRACT.md §5 "Models") against the
// real memgoosed: defineModel created true/false, listModels {name, count, schema as given},
// dropModel, unique indexes (field-level and compound) with DuplicateKey details, a unique
// index built over duplicates (DuplicateKey, old schema kept), DocumentValidationFailure with
// errors [{path, reason}], strict, defaults, and timestamps set as dates.
#define BOOST_TEST_MODULE integration_models
#include <algorithm>
#include <chrono>
#include <thread>

#include "tests/integration/harness.h"

using namespace mg::it;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

// The listModels entry of `model` in `db`, encoded ("" when absent).
std::string listed(Client& c, std::string_view db, std::string_view model) {
  Reply r = c.list_models(db);
  MpView m = by_name(r.get("models"), model);
  return m.valid() ? std::string(m.bytes()) : std::string();
}

Request insert(std::string_view model, std::string_view json) {
  return std::move(Request("insertOne", "", model).arg("doc", J(json)));
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(define_model_created_then_not, OnSharedDaemon) {
  std::string schema = J(R"({"fields":{"n":{"type":"number"}}})");
  BOOST_TEST(c.define_model("", model, schema) == true);
  BOOST_TEST(c.define_model("", model, schema) == false);
  // A changed schema is applied but the model is not created again.
  BOOST_TEST(c.define_model("", model, J(R"({"fields":{"n":{"type":"int"}}})")) == false);
  std::string m = listed(c, "", model);
  BOOST_TEST(js(MpView(m).get("schema")) == canon(R"({"fields":{"n":{"type":"int"}}})"));
  // A write to a model never defined creates it (with an empty schema).
  c.insert_one("", model + "Implicit", J(R"({"x":1})"));
  BOOST_TEST(c.define_model("", model + "Implicit", J("{}")) == false);
}

BOOST_FIXTURE_TEST_CASE(list_models_shows_name_count_and_schema_as_given, OnSharedDaemon) {
  BOOST_TEST_REQUIRE(c.create_database("lm", "memory"));
  // Key order, an int vs a float and nested maps must come back as given.
  std::string schema_json =
      R"({"timestamps":false,"fields":{"n":{"type":"number","required":true,"min":0.5},)"
      R"("tag":{"type":"string","enum":["a","b"]}},"indexes":[{"fields":{"n":1,"tag":-1}}]})";
  c.define_model("lm", "Defined", J(schema_json));
  c.insert_many("lm", "Implicit", {J(R"({"x":1})"), J(R"({"x":2})"), J(R"({"x":3})")});
  Reply r = c.list_models("lm");
  BOOST_TEST(r.get("models").count() == 2u, js(r));
  MpView defined = by_name(r.get("models"), "Defined");
  MpView implicit = by_name(r.get("models"), "Implicit");
  BOOST_TEST_REQUIRE(defined.valid(), js(r));
  BOOST_TEST_REQUIRE(implicit.valid(), js(r));
  BOOST_TEST(defined.get("count").as_int() == 0);
  BOOST_TEST(js(defined.get("schema")) == canon(schema_json));
  BOOST_TEST(implicit.get("count").as_int() == 3);
  BOOST_TEST(js(implicit.get("schema")) == "{}");
  // A read of an unknown model does not create it.
  BOOST_TEST(c.count("lm", "NeverWritten") == 0);
  BOOST_TEST(listed(c, "lm", "NeverWritten").empty());
  c.drop_database("lm");
}

// A write that creates a model, pipelined right before dropDatabase: both are answered. The
// model actor took the drop before its own commit message and ended with the write's reply
// still held for the catalog entry, so the client waited forever (every backend).
BOOST_FIXTURE_TEST_CASE(write_creating_a_model_then_drop_database_both_answered, OnSharedDaemon) {
  RawSocket raw(daemon.req_endpoint());
  for (std::string storage : {"memory", "file", "sqlite", "wiredtiger"}) {
    if (js(c.hello().get("storages")).find('"' + storage + '"') == std::string::npos) continue;
    for (int i = 0; i < 5; ++i) {
      BOOST_TEST_CONTEXT(storage << " round " << i) {
        BOOST_TEST(c.create_database("pipedrop", storage));
        raw.send(J(R"({"id":1,"op":"insertOne","db":"pipedrop","model":"M","doc":{"a":1}})"));
        raw.send(J(R"({"id":2,"op":"dropDatabase","db":"pipedrop"})"));
        std::vector<std::string> ids;
        for (int k = 0; k < 2; ++k) {
          auto reply = raw.recv(10000);
          BOOST_TEST_REQUIRE(reply.has_value(), "reply " << k << " never came");
          MpView r(*reply);
          BOOST_TEST(js(r.get("ok")) == "true", js(r));
          ids.push_back(js(r.get("id")));
        }
        std::sort(ids.begin(), ids.end());
        BOOST_TEST((ids == std::vector<std::string>{"1", "2"}));
        BOOST_TEST(!by_name(c.list_databases().get("databases"), "pipedrop").valid());
      }
    }
  }
}

BOOST_FIXTURE_TEST_CASE(drop_model_true_then_false, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"a":{"type":"int","unique":true}}})"));
  c.insert_many("", model, {J(R"({"a":1})"), J(R"({"a":2})")});
  BOOST_TEST(c.drop_model("", model) == true);
  BOOST_TEST(c.drop_model("", model) == false);
  BOOST_TEST(c.drop_model("", "NeverExisted") == false);
  BOOST_TEST(c.count("", model) == 0);
  BOOST_TEST(listed(c, "", model).empty());
  // The schema went with it: duplicates and strings are now allowed.
  auto ids = c.insert_many("", model, {J(R"({"a":"x"})"), J(R"({"a":"x"})")});
  BOOST_TEST(ids.size() == 2u);
  EXPECT_ERROR(c, Request("dropModel", "noSuchDb", model), 26);
}

BOOST_FIXTURE_TEST_CASE(unique_field_gives_duplicate_key_with_details, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"email":{"type":"string","unique":true}}})"));
  c.insert_one("", model, J(R"({"_id":1,"email":"a@x"})"));
  Error e = EXPECT_ERROR(c, insert(model, R"({"_id":2,"email":"a@x"})"), 11000);
  BOOST_TEST(js(e.details().get("keyPattern")) == canon(R"({"email":1})"));
  BOOST_TEST(js(e.details().get("keyValue")) == canon(R"({"email":"a@x"})"));
  // Nothing was written; the other document is intact.
  BOOST_TEST(c.count("", model) == 1);
  BOOST_TEST(!c.find_by_id("", model, J("2")).has_value());
  // An update into a taken value is refused the same way and changes nothing.
  c.insert_one("", model, J(R"({"_id":3,"email":"c@x"})"));
  Error u = EXPECT_ERROR(c,
                         Request("updateOne", "", model)
                             .arg("filter", J(R"({"_id":3})"))
                             .arg("update", J(R"({"$set":{"email":"a@x"}})")),
                         11000);
  BOOST_TEST(js(u.details().get("keyValue")) == canon(R"({"email":"a@x"})"));
  BOOST_TEST(js(*c.find_by_id("", model, J("3"))) == canon(R"({"_id":3,"email":"c@x"})"));
  // _id is always unique.
  Error id = EXPECT_ERROR(c, insert(model, R"({"_id":1,"email":"z@x"})"), 11000);
  BOOST_TEST(js(id.details().get("keyPattern")) == canon(R"({"_id":1})"));
  BOOST_TEST(js(id.details().get("keyValue")) == canon(R"({"_id":1})"));
}

BOOST_FIXTURE_TEST_CASE(compound_unique_index, OnSharedDaemon) {
  c.define_model("", model, J(R"({"indexes":[{"fields":{"city":1,"age":-1},"unique":true}]})"));
  c.insert_one("", model, J(R"({"city":"Oslo","age":30})"));
  c.insert_one("", model, J(R"({"city":"Oslo","age":31})"));
  c.insert_one("", model, J(R"({"city":"Rome","age":30})"));
  Error e = EXPECT_ERROR(c, insert(model, R"({"age":30,"city":"Oslo"})"), 11000);
  BOOST_TEST(js(e.details().get("keyPattern")) == canon(R"({"city":1,"age":-1})"));
  BOOST_TEST(js(e.details().get("keyValue")) == canon(R"({"city":"Oslo","age":30})"));
  BOOST_TEST(c.count("", model) == 3);
}

BOOST_FIXTURE_TEST_CASE(unique_index_over_duplicates_keeps_the_old_schema, OnSharedDaemon) {
  std::string old_schema = R"({"fields":{"sku":{"type":"string"}}})";
  c.define_model("", model, J(old_schema));
  c.insert_many("", model, {J(R"({"sku":"A"})"), J(R"({"sku":"A"})"), J(R"({"sku":"B"})")});
  Error e =
      EXPECT_ERROR(c,
                   Request("defineModel", "", model)
                       .arg("schema", J(R"({"fields":{"sku":{"type":"string","unique":true}}})")),
                   11000);
  BOOST_TEST(js(e.details().get("keyPattern")) == canon(R"({"sku":1})"));
  BOOST_TEST(js(e.details().get("keyValue")) == canon(R"({"sku":"A"})"));
  BOOST_TEST(js(MpView(listed(c, "", model)).get("schema")) == canon(old_schema));
  // No unique index was left behind: another duplicate is accepted.
  c.insert_one("", model, J(R"({"sku":"B"})"));
  BOOST_TEST(c.count("", model) == 4);
  // Once the duplicates are gone, the same schema builds.
  c.delete_many("", model, J(R"({"sku":"A"})"));
  c.delete_one("", model, J(R"({"sku":"B"})"));
  BOOST_TEST(c.define_model("", model,
                            J(R"({"fields":{"sku":{"type":"string","unique":true}}})")) == false);
  EXPECT_ERROR(c, insert(model, R"({"sku":"B"})"), 11000);
}

BOOST_FIXTURE_TEST_CASE(validation_failure_lists_path_and_reason, OnSharedDaemon) {
  c.define_model("", model,
                 J(R"({"fields":{"age":{"type":"int","required":true,"min":0},)"
                   R"("name":{"type":"string","minLength":2}}})"));
  Error e = EXPECT_ERROR(c, insert(model, R"({"age":-1,"name":"x"})"), 121);
  MpView errors = e.details().get("errors");
  BOOST_TEST_REQUIRE(errors.type() == MpType::Array, js(e.details()));
  BOOST_TEST(errors.count() == 2u, js(errors));
  std::vector<std::string> paths = names_of(errors, "path");
  BOOST_TEST((paths == std::vector<std::string>{"age", "name"}), js(errors));
  ArrayIter it(errors);
  MpView issue;
  while (it.next(issue)) {
    BOOST_TEST(issue.get("reason").type() == MpType::Str, js(issue));
    BOOST_TEST(!issue.get("reason").as_str().empty());
  }
  Error missing = EXPECT_ERROR(c, insert(model, R"({"name":"abc"})"), 121);
  BOOST_TEST(names_of(missing.details().get("errors"), "path") == std::vector<std::string>{"age"});
  Error type = EXPECT_ERROR(c, insert(model, R"({"age":1.5})"), 121);
  BOOST_TEST(names_of(type.details().get("errors"), "path") == std::vector<std::string>{"age"});
  BOOST_TEST(c.count("", model) == 0);
  // An update is validated after it is applied; a failed one changes nothing.
  c.insert_one("", model, J(R"({"_id":1,"age":5})"));
  EXPECT_ERROR(c,
               Request("updateOne", "", model)
                   .arg("filter", J(R"({"_id":1})"))
                   .arg("update", J(R"({"$inc":{"age":-10}})")),
               121);
  BOOST_TEST(js(*c.find_by_id("", model, J("1"))) == canon(R"({"_id":1,"age":5})"));
}

BOOST_FIXTURE_TEST_CASE(insert_many_validation_failure_carries_the_index, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"n":{"type":"int"}}})"));
  Error e = EXPECT_ERROR(
      c,
      Request("insertMany", "", model)
          .arg_array("docs", {J(R"({"n":1})"), J(R"({"n":2})"), J(R"({"n":"three"})")}),
      121);
  BOOST_TEST(e.details().get("index").as_int() == 2, js(e.details()));
  BOOST_TEST(c.count("", model) == 0);
}

BOOST_FIXTURE_TEST_CASE(strict_rejects_unknown_fields_and_defaults_fill_in, OnSharedDaemon) {
  c.define_model("", model,
                 J(R"({"strict":true,"fields":{"name":{"type":"string"},)"
                   R"("role":{"type":"string","default":"user"}}})"));
  Error e = EXPECT_ERROR(c, insert(model, R"({"name":"a","extra":1})"), 121);
  BOOST_TEST(names_of(e.details().get("errors"), "path") == std::vector<std::string>{"extra"});
  c.insert_one("", model, J(R"({"_id":1,"name":"a"})"));
  BOOST_TEST(js(*c.find_by_id("", model, J("1"))) ==
             canon(R"({"_id":1,"name":"a","role":"user"})"));
}

BOOST_FIXTURE_TEST_CASE(timestamps_are_dates, OnSharedDaemon) {
  c.define_model("", model, J(R"({"timestamps":true})"));
  int64_t before = now_ms();
  c.insert_one("", model, J(R"({"_id":1,"n":1})"));
  auto doc = c.find_by_id("", model, J("1"));
  BOOST_TEST_REQUIRE(doc.has_value());
  MpView d(*doc);
  BOOST_TEST_REQUIRE(d.get("createdAt").valid(), js(d));
  BOOST_TEST_REQUIRE(d.get("createdAt").type() == MpType::Date, js(d));
  BOOST_TEST_REQUIRE(d.get("updatedAt").type() == MpType::Date, js(d));
  int64_t created = d.get("createdAt").as_date().millis();
  BOOST_TEST(created >= before - 5);
  BOOST_TEST(created <= now_ms() + 5);
  BOOST_TEST(d.get("updatedAt").as_date().millis() == created);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.update_one("", model, J(R"({"_id":1})"), J(R"({"$set":{"n":2}})"));
  doc = c.find_by_id("", model, J("1"));
  MpView u(*doc);
  BOOST_TEST(u.get("createdAt").as_date().millis() == created, js(u));
  BOOST_TEST(u.get("updatedAt").type() == MpType::Date);
  BOOST_TEST(u.get("updatedAt").as_date().millis() >= created + 10, js(u));
  BOOST_TEST(u.get("n").as_int() == 2);
}

BOOST_FIXTURE_TEST_CASE(index_flag_counts_as_an_index, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"a":{"type":"int","index":true}}})"));
  c.insert_many("", model, {J(R"({"a":1})"), J(R"({"a":1})")});  // not unique
  Reply r = c.stats();
  MpView m = by_name(by_name(r.get("databases"), "default").get("models"), model);
  BOOST_TEST_REQUIRE(m.valid(), js(r));
  BOOST_TEST(m.get("indexes").as_int() == 2, js(m));
  BOOST_TEST(c.count("", model, J(R"({"a":1})")) == 2);
}
