// Updates: every operator of CONTRACT.md §5 applied to real documents and read back, dot paths,
// no-op detection, and the errors by code.
#define BOOST_TEST_MODULE update
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/ejson.h"
#include "core/error.h"
#include "core/msgpack.h"
#include "core/update.h"
#include "core/value.h"

using namespace mg;

namespace {

std::string J(const char* json) {
  return mp_from_json(json);
}
// Canonical JSON text of a JSON literal, to compare results independently of spacing.
std::string N(const char* json) {
  return json_from_mp(J(json));
}

const Date kNow = Date::from_millis(1700000000123);

struct Outcome {
  std::string json;
  bool changed = false;
};

Outcome run(const char* doc, const char* update, bool inserting = false) {
  std::string u = J(update);
  auto compiled = Update::compile(MpView(u));
  Value v = Value::from_bytes(J(doc));
  Outcome o;
  o.changed = compiled->apply(v, inserting, kNow);
  o.json = json_from_mp(v.encode());
  return o;
}

std::string after(const char* doc, const char* update) {
  return run(doc, update).json;
}

// The error code of compiling and applying, Ok when it succeeds.
ErrorCode code_of(const char* doc, const char* update, std::string* message = nullptr) {
  try {
    run(doc, update);
  } catch (const Error& e) {
    if (message) *message = e.status.message;
    return e.status.code;
  }
  return ErrorCode::Ok;
}

bool is(ErrorCode a, ErrorCode b) {
  return a == b;
}

}  // namespace

BOOST_AUTO_TEST_CASE(set_replaces_in_place_and_creates_intermediate_maps) {
  BOOST_TEST(after(R"({"x":1,"a":2,"y":3})", R"({"$set":{"a":5}})") == N(R"({"x":1,"a":5,"y":3})"));
  BOOST_TEST(after("{}", R"({"$set":{"a.b.c":1}})") == N(R"({"a":{"b":{"c":1}}})"));
  BOOST_TEST(after(R"({"a":{"k":0}})", R"({"$set":{"a.b.c":"v"}})") ==
             N(R"({"a":{"k":0,"b":{"c":"v"}}})"));
  BOOST_TEST(after(R"({"a":1})", R"({"$set":{"m":{"n":[1,{"o":true}]}}})") ==
             N(R"({"a":1,"m":{"n":[1,{"o":true}]}})"));
  // several fields and operators at once
  BOOST_TEST(after(R"({"a":1,"n":1})", R"({"$set":{"b":2},"$inc":{"n":2}})") ==
             N(R"({"a":1,"n":3,"b":2})"));
}

BOOST_AUTO_TEST_CASE(set_into_arrays_by_position_and_pads_with_nil) {
  BOOST_TEST(after(R"({"tags":["a","b"]})", R"({"$set":{"tags.1":"x"}})") ==
             N(R"({"tags":["a","x"]})"));
  BOOST_TEST(after(R"({"tags":["a","b"]})", R"({"$set":{"tags.4":"z"}})") ==
             N(R"({"tags":["a","b",null,null,"z"]})"));
  BOOST_TEST(after(R"({"items":[{"n":"a","q":1},{"n":"b","q":2}]})",
                   R"({"$set":{"items.1.q":9},"$inc":{"items.0.q":10}})") ==
             N(R"({"items":[{"n":"a","q":11},{"n":"b","q":9}]})"));
  // a position past the end followed by a field creates a map there
  BOOST_TEST(after(R"({"a":[]})", R"({"$set":{"a.1.b":1}})") == N(R"({"a":[null,{"b":1}]})"));
  // a numeric component of a map is a field name
  BOOST_TEST(after(R"({"m":{}})", R"({"$set":{"m.0":1}})") == N(R"({"m":{"0":1}})"));
}

BOOST_AUTO_TEST_CASE(apply_reports_whether_the_document_changed) {
  BOOST_TEST(!run(R"({"a":1})", R"({"$set":{"a":1}})").changed);
  BOOST_TEST(!run(R"({"a":{"b":[1,"x"]}})", R"({"$set":{"a":{"b":[1,"x"]}}})").changed);
  Outcome f = run(R"({"a":1})", R"({"$set":{"a":1.0}})");  // int -> float is a change
  BOOST_TEST(f.changed);
  BOOST_TEST(f.json == N(R"({"a":1.0})"));
  BOOST_TEST(run(R"({"a":1})", R"({"$set":{"a":2}})").changed);
  BOOST_TEST(!run(R"({"a":1})", R"({"$inc":{"a":0}})").changed);
  BOOST_TEST(!run(R"({"a":1})", R"({"$unset":{"b":""}})").changed);
  BOOST_TEST(!run(R"({"a":1})", R"({"$set":{}})").changed);
  BOOST_TEST(!run(R"({"a":[1,2]})", R"({"$addToSet":{"a":2}})").changed);
  BOOST_TEST(!run(R"({"a":[1,2]})", R"({"$pull":{"a":3}})").changed);
  BOOST_TEST(!run(R"({"a":[1,2]})", R"({"$push":{"a":{"$each":[]}}})").changed);
  BOOST_TEST(!run(R"({"a":[1,2]})", R"({"$push":{"a":{"$each":[3],"$slice":2}}})").changed);
  BOOST_TEST(!run(R"({"a":5})", R"({"$min":{"a":6}})").changed);
  BOOST_TEST(!run(R"({"a":5})", R"({"$max":{"a":5.0}})").changed);
  BOOST_TEST(!run(R"({"a":1})", R"({"$rename":{"zz":"b"}})").changed);
  BOOST_TEST(!run(R"({"a":1})", R"({"$setOnInsert":{"b":1}})").changed);
}

BOOST_AUTO_TEST_CASE(unset_removes_fields_and_nils_array_elements) {
  BOOST_TEST(after(R"({"a":1,"b":{"c":1,"d":2},"e":3})", R"({"$unset":{"a":"","b.c":1}})") ==
             N(R"({"b":{"d":2},"e":3})"));
  BOOST_TEST(after(R"({"a":[1,2,3]})", R"({"$unset":{"a.1":""}})") == N(R"({"a":[1,null,3]})"));
  // through a scalar or a missing parent: nothing happens
  Outcome o = run(R"({"a":1})", R"({"$unset":{"a.b":"","x.y":""}})");
  BOOST_TEST(!o.changed);
  BOOST_TEST(o.json == N(R"({"a":1})"));
}

BOOST_AUTO_TEST_CASE(inc_keeps_ints_and_promotes_when_needed) {
  Outcome o = run(R"({"n":41})", R"({"$inc":{"n":1}})");
  BOOST_TEST(o.json == N(R"({"n":42})"));
  std::string enc = J(o.json.c_str());
  BOOST_TEST(int(MpView(enc).get("n").type()) == int(MpType::Int));
  BOOST_TEST(after(R"({"n":1})", R"({"$inc":{"n":0.5}})") == N(R"({"n":1.5})"));
  BOOST_TEST(after(R"({"n":1.5})", R"({"$inc":{"n":-2}})") == N(R"({"n":-0.5})"));
  BOOST_TEST(after("{}", R"({"$inc":{"a.n":3}})") == N(R"({"a":{"n":3}})"));
  // int64 overflow becomes a float
  std::string big = after(R"({"n":9223372036854775807})", R"({"$inc":{"n":1}})");
  std::string benc = J(big.c_str());
  BOOST_TEST(int(MpView(benc).get("n").type()) == int(MpType::Float));
  BOOST_TEST(MpView(benc).get("n").as_double() == 9223372036854775808.0);
}

BOOST_AUTO_TEST_CASE(mul_multiplies_and_creates_zero_of_the_operand_type) {
  BOOST_TEST(after(R"({"p":6})", R"({"$mul":{"p":7}})") == N(R"({"p":42})"));
  BOOST_TEST(after(R"({"p":3})", R"({"$mul":{"p":0.5}})") == N(R"({"p":1.5})"));
  BOOST_TEST(after(R"({"x":1})", R"({"$mul":{"p":5}})") == N(R"({"x":1,"p":0})"));
  BOOST_TEST(after(R"({"x":1})", R"({"$mul":{"p":2.5}})") == N(R"({"x":1,"p":0.0})"));
  BOOST_TEST(!run(R"({"p":3})", R"({"$mul":{"p":1}})").changed);
}

BOOST_AUTO_TEST_CASE(min_and_max_compare_in_mongo_order) {
  BOOST_TEST(after(R"({"a":5})", R"({"$min":{"a":3}})") == N(R"({"a":3})"));
  BOOST_TEST(after(R"({"a":5})", R"({"$min":{"a":7}})") == N(R"({"a":5})"));
  BOOST_TEST(after(R"({"a":5})", R"({"$max":{"a":7.5}})") == N(R"({"a":7.5})"));
  BOOST_TEST(after(R"({"a":5})", R"({"$max":{"a":"x"}})") == N(R"({"a":"x"})"));  // str > num
  BOOST_TEST(after(R"({"a":5})", R"({"$min":{"a":null}})") == N(R"({"a":null})"));
  BOOST_TEST(after("{}", R"({"$max":{"m.a":1}})") == N(R"({"m":{"a":1}})"));
  BOOST_TEST(after(R"({"d":{"$date":"2024-01-01T00:00:00Z"}})",
                   R"({"$max":{"d":{"$date":"2025-01-01T00:00:00Z"}}})") ==
             N(R"({"d":{"$date":"2025-01-01T00:00:00Z"}})"));
}

BOOST_AUTO_TEST_CASE(rename_moves_values) {
  BOOST_TEST(after(R"({"a":1,"b":2})", R"({"$rename":{"a":"c"}})") == N(R"({"b":2,"c":1})"));
  BOOST_TEST(after(R"({"a":{"x":1,"y":2},"b":0})", R"({"$rename":{"a.x":"b"}})") ==
             N(R"({"a":{"y":2},"b":1})"));
  BOOST_TEST(after(R"({"a":1})", R"({"$rename":{"a":"m.n"}})") == N(R"({"m":{"n":1}})"));
  Outcome o = run(R"({"a":1})", R"({"$rename":{"missing":"b"}})");
  BOOST_TEST(!o.changed);
  BOOST_TEST(o.json == N(R"({"a":1})"));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$rename":{"a":"a"}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$rename":{"a":"a.b"}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$rename":{"a.b":"a"}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$rename":{"a":2}})"), ErrorCode::BadValue));
  BOOST_TEST(
      is(code_of(R"({"a":[{"b":1}]})", R"({"$rename":{"a.0.b":"c"}})"), ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(push_appends_and_creates_arrays) {
  BOOST_TEST(after(R"({"a":[1]})", R"({"$push":{"a":2}})") == N(R"({"a":[1,2]})"));
  BOOST_TEST(after("{}", R"({"$push":{"a":2}})") == N(R"({"a":[2]})"));
  BOOST_TEST(after(R"({"a":[1]})", R"({"$push":{"a":[2,3]}})") == N(R"({"a":[1,[2,3]]})"));
  BOOST_TEST(after(R"({"a":[]})", R"({"$push":{"a":{"k":"v"}}})") == N(R"({"a":[{"k":"v"}]})"));
  BOOST_TEST(after(R"({"a":[1]})", R"({"$push":{"a":{"$each":[2,3]}}})") == N(R"({"a":[1,2,3]})"));
  BOOST_TEST(after(R"({"m":{"l":[{"v":1}]}})", R"({"$push":{"m.l.0.w":"x"}})") ==
             N(R"({"m":{"l":[{"v":1,"w":["x"]}]}})"));
}

BOOST_AUTO_TEST_CASE(push_each_slice_position_and_sort) {
  const char* doc = R"({"a":[1,2,3]})";
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[4,5],"$slice":3}}})") == N(R"({"a":[1,2,3]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[4,5],"$slice":-2}}})") == N(R"({"a":[4,5]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[4],"$slice":0}}})") == N(R"({"a":[]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[9],"$slice":10}}})") == N(R"({"a":[1,2,3,9]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[9],"$slice":-9223372036854775808}}})") ==
             N(R"({"a":[1,2,3,9]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[7,8],"$position":0}}})") ==
             N(R"({"a":[7,8,1,2,3]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[7],"$position":1}}})") ==
             N(R"({"a":[1,7,2,3]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[7],"$position":-1}}})") ==
             N(R"({"a":[1,2,7,3]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[7],"$position":99}}})") ==
             N(R"({"a":[1,2,3,7]})"));
  BOOST_TEST(after(doc, R"({"$push":{"a":{"$each":[0,9],"$sort":-1,"$slice":3}}})") ==
             N(R"({"a":[9,3,2]})"));
  BOOST_TEST(after(R"({"s":[{"x":2},{"x":1}]})",
                   R"({"$push":{"s":{"$each":[{"x":3}],"$sort":{"x":1}}}})") ==
             N(R"({"s":[{"x":1},{"x":2},{"x":3}]})"));
  BOOST_TEST(is(code_of(doc, R"({"$push":{"a":{"$each":4}}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of(doc, R"({"$push":{"a":{"$slice":2}}})"), ErrorCode::BadValue));
  BOOST_TEST(
      is(code_of(doc, R"({"$push":{"a":{"$each":[1],"$slice":"x"}}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of(doc, R"({"$push":{"a":{"$each":[1],"$bogus":1}}})"), ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(add_to_set_skips_duplicates) {
  BOOST_TEST(after(R"({"a":[1,2]})", R"({"$addToSet":{"a":3}})") == N(R"({"a":[1,2,3]})"));
  BOOST_TEST(after(R"({"a":[1,2]})", R"({"$addToSet":{"a":2.0}})") == N(R"({"a":[1,2]})"));
  BOOST_TEST(after(R"({"a":[1,2]})", R"({"$addToSet":{"a":{"$each":[2,3,3,4]}}})") ==
             N(R"({"a":[1,2,3,4]})"));
  BOOST_TEST(after(R"({"a":[{"k":1}]})", R"({"$addToSet":{"a":{"k":1}}})") ==
             N(R"({"a":[{"k":1}]})"));
  BOOST_TEST(after("{}", R"({"$addToSet":{"t":{"$each":["x","x","y"]}}})") ==
             N(R"({"t":["x","y"]})"));
  BOOST_TEST(is(code_of(R"({"a":[]})", R"({"$addToSet":{"a":{"$each":[1],"$slice":1}}})"),
                ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(pop_removes_last_or_first) {
  BOOST_TEST(after(R"({"a":[1,2,3]})", R"({"$pop":{"a":1}})") == N(R"({"a":[1,2]})"));
  BOOST_TEST(after(R"({"a":[1,2,3]})", R"({"$pop":{"a":-1}})") == N(R"({"a":[2,3]})"));
  BOOST_TEST(!run(R"({"a":[]})", R"({"$pop":{"a":1}})").changed);
  Outcome o = run(R"({"b":1})", R"({"$pop":{"a":1}})");
  BOOST_TEST(!o.changed);
  BOOST_TEST(o.json == N(R"({"b":1})"));
  BOOST_TEST(is(code_of(R"({"a":[1]})", R"({"$pop":{"a":2}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$pop":{"a":1}})"), ErrorCode::TypeMismatch));
}

BOOST_AUTO_TEST_CASE(pull_by_value_fields_and_conditions) {
  BOOST_TEST(after(R"({"a":[1,2,1,3]})", R"({"$pull":{"a":1}})") == N(R"({"a":[2,3]})"));
  BOOST_TEST(after(R"({"a":[[1,2],1,[1]]})", R"({"$pull":{"a":[1,2]}})") == N(R"({"a":[1,[1]]})"));
  BOOST_TEST(after(R"({"a":[{"t":"x","n":1},{"t":"y"},{"t":"x","n":2},5]})",
                   R"({"$pull":{"a":{"t":"x"}}})") == N(R"({"a":[{"t":"y"},5]})"));
  BOOST_TEST(after(R"({"a":[{"n":1},{"n":5},{"n":9}]})", R"({"$pull":{"a":{"n":{"$gte":5}}}})") ==
             N(R"({"a":[{"n":1}]})"));
  BOOST_TEST(after(R"({"v":[3,6,9,"z"]})", R"({"$pull":{"v":{"$gte":6}}})") ==
             N(R"({"v":[3,"z"]})"));
  BOOST_TEST(after(R"({"v":["a","b","c"]})", R"({"$pull":{"v":{"$in":["a","c"]}}})") ==
             N(R"({"v":["b"]})"));
  BOOST_TEST(after(R"({"v":[1,2,3]})", R"({"$pull":{"v":{"$ne":2}}})") == N(R"({"v":[2]})"));
  Outcome o = run(R"({"b":1})", R"({"$pull":{"a":1}})");
  BOOST_TEST(!o.changed);
  BOOST_TEST(is(code_of(R"({"a":"s"})", R"({"$pull":{"a":1}})"), ErrorCode::TypeMismatch));
  BOOST_TEST(is(code_of(R"({"a":[]})", R"({"$pull":{"a":{"$regex":"x"}}})"), ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(set_on_insert_only_when_inserting) {
  const char* u = R"({"$set":{"a":1},"$setOnInsert":{"created":true}})";
  BOOST_TEST(run("{}", u, false).json == N(R"({"a":1})"));
  BOOST_TEST(run("{}", u, true).json == N(R"({"a":1,"created":true})"));
}

BOOST_AUTO_TEST_CASE(current_date_sets_now_as_a_date) {
  Outcome o = run(R"({"a":1})", R"({"$currentDate":{"d":true,"m.t":{"$type":"timestamp"}}})");
  std::string enc = J(o.json.c_str());
  MpView v(enc);
  BOOST_TEST(int(v.get("d").type()) == int(MpType::Date));
  BOOST_TEST(v.get("d").as_date().millis() == kNow.millis());
  BOOST_TEST(v.get("m").get("t").as_date().millis() == kNow.millis());
  BOOST_TEST(after("{}", R"({"$currentDate":{"d":{"$type":"date"}}})") ==
             N(R"({"d":{"$date":"2023-11-14T22:13:20.123Z"}})"));
  BOOST_TEST(is(code_of("{}", R"({"$currentDate":{"d":1}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$currentDate":{"d":{"$type":"x"}}})"), ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(new_fields_are_created_in_mongo_field_order) {
  BOOST_TEST(after(R"({"_id":1})", R"({"$set":{"b":1,"a":2},"$inc":{"c":1}})") ==
             N(R"({"_id":1,"a":2,"b":1,"c":1})"));
  BOOST_TEST(after(R"({"a":[]})", R"({"$set":{"a.10":1,"a.2":2}})") ==
             N(R"({"a":[null,null,2,null,null,null,null,null,null,null,1]})"));
}

BOOST_AUTO_TEST_CASE(shape_errors_are_bad_value) {
  std::string msg;
  BOOST_TEST(is(code_of("{}", R"({"a":1})", &msg), ErrorCode::BadValue));
  BOOST_TEST(msg.find("replaceOne") != std::string::npos);
  BOOST_TEST(is(code_of("{}", "{}"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a":1},"b":2})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$frobnicate":{"a":1}})", &msg), ErrorCode::BadValue));
  BOOST_TEST(msg.find("$frobnicate") != std::string::npos);
  BOOST_TEST(is(code_of("{}", R"({"$set":5})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$inc":{"a":"x"}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a":{"$x":1}}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a":{"b.c":1}}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$push":{"a":{"$each":[{"$x":1}]}}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a..b":1}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a.$":1}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"":1}})"), ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(conflicting_paths_are_bad_value) {
  std::string msg;
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a":1,"a.b":2}})", &msg), ErrorCode::BadValue));
  BOOST_TEST(msg.find("conflict") != std::string::npos);
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a.b":1},"$unset":{"a":""}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a":1},"$inc":{"a":1}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"x":1},"$rename":{"a":"x"}})"), ErrorCode::BadValue));
  BOOST_TEST(is(code_of("{}", R"({"$set":{"a.b":1},"$rename":{"a":"z"}})"), ErrorCode::BadValue));
  // siblings and shared prefixes of names are fine
  BOOST_TEST(after("{}", R"({"$set":{"a.b":1,"a.c":2,"ab":3}})") ==
             N(R"({"a":{"b":1,"c":2},"ab":3})"));
}

BOOST_AUTO_TEST_CASE(type_errors_are_type_mismatch) {
  BOOST_TEST(is(code_of(R"({"a":"s"})", R"({"$inc":{"a":1}})"), ErrorCode::TypeMismatch));
  BOOST_TEST(is(code_of(R"({"a":null})", R"({"$mul":{"a":2}})"), ErrorCode::TypeMismatch));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$push":{"a":1}})"), ErrorCode::TypeMismatch));
  BOOST_TEST(is(code_of(R"({"a":{}})", R"({"$addToSet":{"a":1}})"), ErrorCode::TypeMismatch));
  BOOST_TEST(is(code_of(R"({"a":1})", R"({"$set":{"a.b":1}})"), ErrorCode::TypeMismatch));
  BOOST_TEST(is(code_of(R"({"a":[1]})", R"({"$set":{"a.x":1}})"), ErrorCode::TypeMismatch));
}

BOOST_AUTO_TEST_CASE(compiled_update_applies_to_many_documents) {
  std::string u = J(R"({"$inc":{"n":1},"$push":{"log":"x"}})");
  auto up = Update::compile(MpView(u));
  Value a = Value::from_bytes(J(R"({"n":1})"));
  Value b = Value::from_bytes(J(R"({"n":10,"log":["y"]})"));
  BOOST_TEST(up->apply(a, false, kNow));
  BOOST_TEST(up->apply(b, false, kNow));
  BOOST_TEST(json_from_mp(a.encode()) == N(R"({"n":2,"log":["x"]})"));
  BOOST_TEST(json_from_mp(b.encode()) == N(R"({"n":11,"log":["y","x"]})"));
}

BOOST_AUTO_TEST_CASE(set_path_creates_intermediate_maps) {
  Value doc = Value::from_bytes(J(R"({"a":{"x":1},"s":"str"})"));
  set_path(doc, "a.b.c", Value::integer(7));
  set_path(doc, "top", Value::str("t"));
  BOOST_TEST(json_from_mp(doc.encode()) == N(R"({"a":{"x":1,"b":{"c":7}},"s":"str","top":"t"})"));
  BOOST_CHECK_EXCEPTION(set_path(doc, "s.x", Value()), Error,
                        [](const Error& e) { return e.status.code == ErrorCode::TypeMismatch; });
}
