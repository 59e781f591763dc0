// tests/integration/documents_test.cc — every document operation of the CONTRACT.md §5 table
// against the real memgoosed, each result read back: insertOne (generated ObjectId),
// insertMany (all or nothing, `index`), find (filter, sort, skip, limit, projection), findOne,
// findById, count, distinct (arrays unwound), updateOne/updateMany (counts, upsert seeded from
// the filter), replaceOne, deleteOne/deleteMany, findOneAndUpdate (before/after, upsert),
// findOneAndDelete, the update operators, and reads of an unknown model.
#define BOOST_TEST_MODULE integration_documents
#include <algorithm>
#include <set>

#include "tests/integration/harness.h"

using namespace mg::it;
using mg::client::FindAndModifyArgs;
using mg::client::FindArgs;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

const char* kPeople[] = {
    R"({"_id":1,"name":"ann","age":30,"city":"Oslo","tags":["a","b"],"addr":{"zip":"0150","no":7}})",
    R"({"_id":2,"name":"bob","age":25,"city":"Rome","tags":["b"]})",
    R"({"_id":3,"name":"cy","age":35,"city":"Oslo","tags":[]})",
    R"({"_id":4,"name":"dee","age":25,"city":"Paris","nick":null})",
    R"({"_id":5,"name":"eve","age":40,"city":"Rome","tags":["a","c"]})",
};

// A fixture with the five people above in `model`.
struct People : OnSharedDaemon {
  People() {
    std::vector<std::string> docs;
    for (auto* p : kPeople) docs.push_back(J(p));
    c.insert_many("", model, docs);
  }
  // The `_id`s of the documents find returns, as JSON.
  std::string ids(const FindArgs& args) {
    std::string out;
    for (auto& d : c.find("", model, args))
      out += (out.empty() ? "" : ",") + js(MpView(d).get("_id"));
    return "[" + out + "]";
  }
  std::string ids(std::string_view filter_json) { return ids(find_args(J(filter_json))); }
};

std::string json_list(const std::vector<std::string>& encoded) {
  std::string out;
  for (auto& e : encoded) out += (out.empty() ? "" : ",") + js(e);
  return "[" + out + "]";
}

bool is_object_id(MpView v) {
  if (!v.valid() || v.type() != MpType::Str || v.as_str().size() != 24) return false;
  return std::all_of(v.as_str().begin(), v.as_str().end(),
                     [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(insert_one_generates_an_object_id, OnSharedDaemon) {
  std::string id = c.insert_one("", model, J(R"({"a":1,"b":"x"})"));
  BOOST_TEST(is_object_id(MpView(id)), js(id));
  std::string id2 = c.insert_one("", model, J(R"({"a":2})"));
  BOOST_TEST(is_object_id(MpView(id2)), js(id2));
  BOOST_TEST(id != id2);
  auto doc = c.find_by_id("", model, id);
  BOOST_TEST_REQUIRE(doc.has_value());
  BOOST_TEST(js(*doc) == "{\"_id\":" + js(id) + R"(,"a":1,"b":"x"})");  // _id first
  // A client's own _id of any scalar type is kept as given.
  for (std::string given : {"7", R"("seven")", "7.5", "true", R"({"$binary":"AQI="})"}) {
    std::string got = c.insert_one("", model, J(R"({"_id":)" + given + "}"));
    BOOST_TEST(js(got) == canon(given));
    BOOST_TEST(c.find_by_id("", model, J(given)).has_value(), given);
  }
  BOOST_TEST(c.count("", model) == 7);
}

BOOST_FIXTURE_TEST_CASE(insert_many_returns_ids_in_order, OnSharedDaemon) {
  Reply r =
      c.command(Request("insertMany", "", model)
                    .arg_array("docs", {J(R"({"_id":"x"})"), J(R"({"v":1})"), J(R"({"_id":3})")}));
  BOOST_TEST(r.get("insertedCount").as_int() == 3);
  MpView ids = r.get("insertedIds");
  BOOST_TEST_REQUIRE(ids.count() == 3u, js(r));
  BOOST_TEST(js(ids.at(0)) == "\"x\"");
  BOOST_TEST(is_object_id(ids.at(1)), js(r));
  BOOST_TEST(js(ids.at(2)) == "3");
  BOOST_TEST(c.count("", model) == 3);
  Reply empty = c.command(Request("insertMany", "", model).arg_array("docs", {}));
  BOOST_TEST(empty.get("insertedCount").as_int() == 0);
}

BOOST_FIXTURE_TEST_CASE(insert_many_is_all_or_nothing, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"_id":100})"));
  // A duplicate inside the batch.
  Error e = EXPECT_ERROR(
      c,
      Request("insertMany", "", model)
          .arg_array("docs", {J(R"({"_id":1})"), J(R"({"_id":2})"), J(R"({"_id":1})")}),
      11000);
  BOOST_TEST(e.details().get("index").as_int() == 2, js(e.details()));
  BOOST_TEST(js(e.details().get("keyValue")) == canon(R"({"_id":1})"));
  // A duplicate of a stored document.
  Error stored = EXPECT_ERROR(
      c,
      Request("insertMany", "", model).arg_array("docs", {J(R"({"_id":5})"), J(R"({"_id":100})")}),
      11000);
  BOOST_TEST(stored.details().get("index").as_int() == 1, js(stored.details()));
  // A document that is not a map.
  Error type = EXPECT_ERROR(
      c, Request("insertMany", "", model).arg_array("docs", {J(R"({"_id":6})"), J("42")}), 14);
  BOOST_TEST(type.details().get("index").as_int() == 1, js(type.details()));
  // A document with a forbidden field name, after a good one (checked as the batch is sliced).
  Error name = EXPECT_ERROR(c,
                            Request("insertMany", "", model)
                                .arg_array("docs", {J(R"({"_id":7})"), J(R"({"a":{"$x":1}})")}),
                            2);
  BOOST_TEST(name.details().get("index").as_int() == 1, js(name.details()));
  BOOST_TEST(name.message().find("$x") != std::string::npos, name.message());
  BOOST_TEST(c.count("", model) == 1);
  BOOST_TEST(json_list(c.find("", model)) == canon(R"([{"_id":100}])"));
}

BOOST_FIXTURE_TEST_CASE(find_filters, People) {
  BOOST_TEST(ids("{}") == "[1,2,3,4,5]");  // insertion order without sort
  BOOST_TEST(ids(R"({"city":"Oslo"})") == "[1,3]");
  BOOST_TEST(ids(R"({"age":{"$gte":30,"$lt":40}})") == "[1,3]");
  BOOST_TEST(ids(R"({"city":{"$in":["Rome","Paris"]},"age":25})") == "[2,4]");
  BOOST_TEST(ids(R"({"tags":"a"})") == "[1,5]");  // any element
  BOOST_TEST(ids(R"({"tags":{"$size":0}})") == "[3]");
  BOOST_TEST(ids(R"({"addr.zip":"0150"})") == "[1]");
  BOOST_TEST(ids(R"({"nick":null})") == "[1,2,3,4,5]");  // nil or missing
  BOOST_TEST(ids(R"({"nick":{"$exists":true}})") == "[4]");
  BOOST_TEST(ids(R"({"$or":[{"age":40},{"name":{"$regex":"^B","$options":"i"}}]})") == "[2,5]");
  BOOST_TEST(ids(R"({"city":"Rome","$nor":[{"age":25}]})") == "[5]");
  BOOST_TEST(ids(R"({"tags":{"$all":["a","c"]}})") == "[5]");
  BOOST_TEST(ids(R"({"age":{"$not":{"$gt":25}}})") == "[2,4]");
  BOOST_TEST(ids(R"({"city":{"$ne":"Oslo"},"tags":{"$exists":false}})") == "[4]");
  BOOST_TEST(ids(R"({"name":"nobody"})") == "[]");
}

BOOST_FIXTURE_TEST_CASE(find_sort_skip_limit, People) {
  BOOST_TEST(ids(find_args(J("{}"), J(R"({"age":-1})"))) == "[5,3,1,2,4]");
  BOOST_TEST(ids(find_args(J("{}"), J(R"({"age":1,"name":-1})"))) == "[4,2,1,3,5]");
  BOOST_TEST(ids(find_args(J(R"({"age":{"$gte":30}})"), J(R"({"age":-1})"))) == "[5,3,1]");
  BOOST_TEST(ids(find_args(J("{}"), J(R"({"_id":1})"), 1, 2)) == "[2,3]");
  BOOST_TEST(ids(find_args(J("{}"), J(R"({"_id":-1})"), 4, 0)) == "[1]");
  BOOST_TEST(ids(find_args(J("{}"), J(R"({"_id":1})"), 10, 0)) == "[]");
  // limit 0 is no limit; an explicit 0 on the wire too.
  Reply r = c.command(Request("find", "", model).arg("filter", J("{}")).arg_int("limit", 0));
  BOOST_TEST(r.get("docs").count() == 5u);
  BOOST_TEST(ids(find_args(J("{}"), J(R"({"city":1,"age":1})"), 0, 3)) == "[1,3,4]");
}

BOOST_FIXTURE_TEST_CASE(find_projection, People) {
  FindArgs a = find_args(J(R"({"_id":{"$lte":2}})"), J(R"({"_id":1})"));
  a.projection = J(R"({"name":1})");
  BOOST_TEST(json_list(c.find("", model, a)) ==
             canon(R"([{"_id":1,"name":"ann"},{"_id":2,"name":"bob"}])"));
  a.projection = J(R"({"city":1,"name":1,"_id":0})");  // the document's order, not the projection's
  BOOST_TEST(json_list(c.find("", model, a)) ==
             canon(R"([{"name":"ann","city":"Oslo"},{"name":"bob","city":"Rome"}])"));
  a.projection = J(R"({"tags":0,"addr":0,"age":0})");
  BOOST_TEST(
      json_list(c.find("", model, a)) ==
      canon(R"([{"_id":1,"name":"ann","city":"Oslo"},{"_id":2,"name":"bob","city":"Rome"}])"));
  a.projection = J(R"({"addr.zip":1,"_id":0})");
  BOOST_TEST(json_list(c.find("", model, a)) == canon(R"([{"addr":{"zip":"0150"}},{}])"));
  EXPECT_ERROR(
      c, Request("find", "", model).arg("filter", J("{}")).arg("projection", J(R"({"a":1,"b":0})")),
      2);
}

BOOST_FIXTURE_TEST_CASE(find_one_and_find_by_id, People) {
  FindArgs a = find_args(J(R"({"city":"Rome"})"), J(R"({"age":-1})"));
  auto one = c.find_one("", model, a);
  BOOST_TEST_REQUIRE(one.has_value());
  BOOST_TEST(js(MpView(*one).get("_id")) == "5");
  a.projection = J(R"({"name":1,"_id":0})");
  BOOST_TEST(js(*c.find_one("", model, a)) == canon(R"({"name":"eve"})"));
  BOOST_TEST(!c.find_one("", model, find_args(J(R"({"city":"Nowhere"})"))).has_value());
  Reply none = c.command(Request("findOne", "", model).arg("filter", J(R"({"city":"Nowhere"})")));
  BOOST_TEST(none.get("doc").type() == MpType::Nil, js(none));  // doc: nil, not absent
  BOOST_TEST(js(*c.find_by_id("", model, J("2"))) == canon(kPeople[1]));
  BOOST_TEST(js(*c.find_by_id("", model, J("1"), J(R"({"addr":1})"))) ==
             canon(R"({"_id":1,"addr":{"zip":"0150","no":7}})"));
  BOOST_TEST(!c.find_by_id("", model, J("99")).has_value());
  BOOST_TEST(!c.find_by_id("", model, J(R"("1")")).has_value());  // 1 and "1" differ
  BOOST_TEST(c.find_by_id("", model, J("1.0")).has_value());      // 1 and 1.0 do not
}

BOOST_FIXTURE_TEST_CASE(count_and_distinct, People) {
  BOOST_TEST(c.count("", model) == 5);
  BOOST_TEST(c.count("", model, J(R"({"age":25})")) == 2);
  BOOST_TEST(c.count("", model, J(R"({"age":{"$gt":100}})")) == 0);
  auto sorted = [](std::vector<std::string> v) {
    std::vector<std::string> out;
    for (auto& e : v) out.push_back(js(e));
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  BOOST_TEST(sorted(c.distinct("", model, "tags")) == (V{"\"a\"", "\"b\"", "\"c\""}));
  BOOST_TEST(sorted(c.distinct("", model, "city")) == (V{"\"Oslo\"", "\"Paris\"", "\"Rome\""}));
  BOOST_TEST(sorted(c.distinct("", model, "age", J(R"({"city":"Oslo"})"))) == (V{"30", "35"}));
  BOOST_TEST(sorted(c.distinct("", model, "addr.zip")) == (V{"\"0150\""}));
  c.insert_one("", model, J(R"({"_id":6,"age":25.0})"));  // equal to 25: appears once
  BOOST_TEST(c.distinct("", model, "age").size() == 4u);
}

BOOST_FIXTURE_TEST_CASE(update_one_and_many_counts, People) {
  auto r = c.update_one("", model, J(R"({"city":"Rome"})"), J(R"({"$inc":{"age":1}})"));
  BOOST_TEST(r.matched == 1);
  BOOST_TEST(r.modified == 1);
  BOOST_TEST(r.upserted_id.empty());
  BOOST_TEST(js(*c.find_by_id("", model, J("2"))) ==
             canon(R"({"_id":2,"name":"bob","age":26,"city":"Rome","tags":["b"]})"));
  r = c.update_many("", model, J(R"({"city":"Oslo"})"), J(R"({"$set":{"country":"NO"}})"));
  BOOST_TEST(r.matched == 2);
  BOOST_TEST(r.modified == 2);
  BOOST_TEST(c.count("", model, J(R"({"country":"NO"})")) == 2);
  // Setting what is already there matches but modifies nothing.
  r = c.update_many("", model, J(R"({"city":"Oslo"})"), J(R"({"$set":{"country":"NO"}})"));
  BOOST_TEST(r.matched == 2);
  BOOST_TEST(r.modified == 0);
  r = c.update_one("", model, J(R"({"city":"Nowhere"})"), J(R"({"$set":{"x":1}})"));
  BOOST_TEST(r.matched == 0);
  BOOST_TEST(r.modified == 0);
  BOOST_TEST(c.count("", model) == 5);
  Reply raw = c.command(Request("updateOne", "", model)
                            .arg("filter", J(R"({"_id":1})"))
                            .arg("update", J(R"({"$set":{"age":31}})")));
  BOOST_TEST(raw.get("upsertedId").type() == MpType::Nil, js(raw));
}

BOOST_FIXTURE_TEST_CASE(upsert_seeds_from_filter_equalities, OnSharedDaemon) {
  auto r = c.update_one("", model, J(R"({"name":"zed","age":{"$gt":3},"$and":[{"city":"Oslo"}]})"),
                        J(R"({"$set":{"x":1}})"), true);
  BOOST_TEST(r.matched == 0);
  BOOST_TEST(r.modified == 0);
  BOOST_TEST_REQUIRE(is_object_id(MpView(r.upserted_id)), js(r.upserted_id));
  BOOST_TEST(js(*c.find_by_id("", model, r.upserted_id)) ==
             "{\"_id\":" + js(r.upserted_id) + R"(,"name":"zed","city":"Oslo","x":1})");
  // A filter fixing _id gives that _id; the second time it matches and $setOnInsert is skipped.
  r = c.update_many("", model, J(R"({"_id":{"$eq":77}})"), J(R"({"$setOnInsert":{"s":1}})"), true);
  BOOST_TEST(js(r.upserted_id) == "77");
  BOOST_TEST(js(*c.find_by_id("", model, J("77"))) == canon(R"({"_id":77,"s":1})"));
  r = c.update_many("", model, J(R"({"_id":77})"), J(R"({"$inc":{"n":1},"$setOnInsert":{"s":2}})"),
                    true);
  BOOST_TEST(r.matched == 1);
  BOOST_TEST(r.modified == 1);
  BOOST_TEST(r.upserted_id.empty());
  BOOST_TEST(js(*c.find_by_id("", model, J("77"))) == canon(R"({"_id":77,"s":1,"n":1})"));
  BOOST_TEST(c.count("", model) == 2);
}

BOOST_FIXTURE_TEST_CASE(replace_one, People) {
  auto r = c.replace_one("", model, J(R"({"name":"bob"})"), J(R"({"name":"rob","v":1})"));
  BOOST_TEST(r.matched == 1);
  BOOST_TEST(r.modified == 1);
  BOOST_TEST(js(*c.find_by_id("", model, J("2"))) == canon(R"({"_id":2,"name":"rob","v":1})"));
  r = c.replace_one("", model, J(R"({"_id":3})"), J(R"({"_id":3,"name":"cy2"})"));  // same _id
  BOOST_TEST(r.modified == 1);
  BOOST_TEST(js(*c.find_by_id("", model, J("3"))) == canon(R"({"_id":3,"name":"cy2"})"));
  r = c.replace_one("", model, J(R"({"name":"nobody"})"), J(R"({"name":"new"})"));
  BOOST_TEST(r.matched == 0);
  BOOST_TEST(c.count("", model) == 5);
  r = c.replace_one("", model, J(R"({"_id":9})"), J(R"({"name":"nine"})"), true);
  BOOST_TEST(js(r.upserted_id) == "9");
  BOOST_TEST(js(*c.find_by_id("", model, J("9"))) == canon(R"({"_id":9,"name":"nine"})"));
  EXPECT_ERROR(c,
               Request("replaceOne", "", model)
                   .arg("filter", J(R"({"_id":1})"))
                   .arg("replacement", J(R"({"$set":{"a":1}})")),
               2);
}

BOOST_FIXTURE_TEST_CASE(delete_one_and_many, People) {
  BOOST_TEST(c.delete_one("", model, J(R"({"city":"Rome"})")) == 1);
  BOOST_TEST(c.count("", model, J(R"({"city":"Rome"})")) == 1);
  BOOST_TEST(c.delete_many("", model, J(R"({"age":{"$lte":35}})")) == 3);
  BOOST_TEST(c.delete_many("", model, J(R"({"age":{"$lte":35}})")) == 0);
  BOOST_TEST(c.delete_one("", model, J(R"({"name":"nobody"})")) == 0);
  BOOST_TEST(ids("{}") == "[5]");
  BOOST_TEST(c.delete_many("", model, J("{}")) == 1);
  BOOST_TEST(c.count("", model) == 0);
}

BOOST_FIXTURE_TEST_CASE(find_one_and_update, People) {
  FindAndModifyArgs a;
  a.sort = J(R"({"age":-1})");
  auto before =
      c.find_one_and_update("", model, J(R"({"city":"Oslo"})"), J(R"({"$inc":{"age":1}})"), a);
  BOOST_TEST_REQUIRE(before.has_value());
  BOOST_TEST(js(MpView(*before).get("age")) == "35");  // cy, before the update
  a.return_after = true;
  a.projection = J(R"({"age":1,"_id":0})");
  auto after = c.find_one_and_update("", model, J(R"({"_id":3})"), J(R"({"$inc":{"age":1}})"), a);
  BOOST_TEST(js(*after) == canon(R"({"age":37})"));
  BOOST_TEST(
      !c.find_one_and_update("", model, J(R"({"_id":42})"), J(R"({"$set":{"a":1}})")).has_value());
  FindAndModifyArgs up;
  up.upsert = true;  // "before" with upsert: nil, but the document is inserted
  BOOST_TEST(!c.find_one_and_update("", model, J(R"({"_id":42})"), J(R"({"$set":{"a":1}})"), up)
                  .has_value());
  BOOST_TEST(js(*c.find_by_id("", model, J("42"))) == canon(R"({"_id":42,"a":1})"));
  up.return_after = true;
  auto made =
      c.find_one_and_update("", model, J(R"({"_id":"orders"})"), J(R"({"$inc":{"n":1}})"), up);
  BOOST_TEST(js(*made) == canon(R"({"_id":"orders","n":1})"));
  made = c.find_one_and_update("", model, J(R"({"_id":"orders"})"), J(R"({"$inc":{"n":1}})"), up);
  BOOST_TEST(js(*made) == canon(R"({"_id":"orders","n":2})"));
  EXPECT_ERROR(c,
               Request("findOneAndUpdate", "", model)
                   .arg("filter", J(R"({"_id":1})"))
                   .arg("update", J(R"({"$set":{"a":1}})"))
                   .arg_str("returnDocument", "later"),
               2);
}

BOOST_FIXTURE_TEST_CASE(find_one_and_delete, People) {
  FindAndModifyArgs a;
  a.sort = J(R"({"age":1,"_id":-1})");
  auto d = c.find_one_and_delete("", model, J(R"({"age":25})"), a);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(js(*d) == canon(kPeople[3]));
  BOOST_TEST(!c.find_by_id("", model, J("4")).has_value());
  a.projection = J(R"({"name":1})");
  BOOST_TEST(js(*c.find_one_and_delete("", model, J("{}"), a)) ==
             canon(R"({"_id":2,"name":"bob"})"));
  BOOST_TEST(!c.find_one_and_delete("", model, J(R"({"_id":4})")).has_value());
  BOOST_TEST(c.count("", model) == 3);
}

BOOST_FIXTURE_TEST_CASE(update_operators, OnSharedDaemon) {
  c.insert_one("", model,
               J(R"({"_id":1,"n":5,"f":1.5,"s":"x","old":1,"arr":[1,2,3],"set":["a"],"m":{"k":1},)"
                 R"("lo":5,"hi":5})"));
  c.update_one(
      "", model, J(R"({"_id":1})"),
      J(R"({"$inc":{"n":2},"$mul":{"f":2},"$unset":{"s":""},"$rename":{"old":"renamed"},)"
        R"("$push":{"arr":{"$each":[4,5],"$slice":-4}},"$addToSet":{"set":{"$each":["a","b"]}},)"
        R"("$set":{"m.k":2,"m.j":{"deep":true}},"$min":{"lo":3},"$max":{"hi":100}})"));
  // Fields keep their places; the renamed one is new, so it goes last.
  BOOST_TEST(js(*c.find_by_id("", model, J("1"))) ==
             canon(R"({"_id":1,"n":7,"f":3.0,"arr":[2,3,4,5],"set":["a","b"],)"
                   R"("m":{"k":2,"j":{"deep":true}},"lo":3,"hi":100,"renamed":1})"));
  c.update_one("", model, J(R"({"_id":1})"),
               J(R"({"$pull":{"arr":{"$gte":4}},"$pop":{"set":-1},"$currentDate":{"at":true}})"));
  auto doc = c.find_by_id("", model, J("1"));
  MpView d(*doc);
  BOOST_TEST(js(d.get("arr")) == "[2,3]");
  BOOST_TEST(js(d.get("set")) == R"(["b"])");
  BOOST_TEST(d.get("at").type() == MpType::Date, js(d));
  BOOST_TEST(d.get("n").type() == MpType::Int);  // $inc of ints keeps an int
}

BOOST_FIXTURE_TEST_CASE(reads_of_an_unknown_model_return_nothing, OnSharedDaemon) {
  std::string m = model + "Never";
  BOOST_TEST(c.find("", m).empty());
  BOOST_TEST(!c.find_one("", m).has_value());
  BOOST_TEST(!c.find_by_id("", m, J("1")).has_value());
  BOOST_TEST(c.count("", m) == 0);
  BOOST_TEST(c.distinct("", m, "a").empty());
  Reply r = c.command(Request("findOne", "", m).arg("filter", J("{}")));
  BOOST_TEST(r.get("doc").type() == MpType::Nil, js(r));
  // ... and do not create it.
  Reply models = c.list_models("");
  BOOST_TEST(!by_name(models.get("models"), m).valid(), js(models));
  // A delete or update that matches nothing on an unknown model changes nothing either.
  BOOST_TEST(c.delete_many("", m + "2", J("{}")) == 0);
  BOOST_TEST(c.update_many("", m + "3", J("{}"), J(R"({"$set":{"a":1}})")).matched == 0);
}
