// Filters: every operator with matching and non-matching documents, MongoDB's array and null
// rules, type bracketing, compile errors, and the planner's view (CONTRACT.md §5).
#define BOOST_TEST_MODULE filter
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/compare.h"
#include "core/ejson.h"
#include "core/error.h"
#include "core/filter.h"
#include "core/filter_ops.h"
#include "core/msgpack.h"

using namespace mg;

static std::string J(const char* json) {
  return mp_from_json(json);
}

static std::unique_ptr<Matcher> C(const char* filter) {
  std::string f = J(filter);
  return Matcher::compile(MpView(f));
}

// Does `filter` match `doc`?
static bool M(const char* filter, const char* doc) {
  auto m = C(filter);
  std::string d = J(doc);
  return m->matches(MpView(d));
}

// The error compiling `filter` raises (Ok if none), and its message.
static ErrorCode err(const char* filter, std::string* msg = nullptr) {
  try {
    C(filter);
  } catch (const Error& e) {
    if (msg) *msg = e.status.message;
    return e.status.code;
  }
  return ErrorCode::Ok;
}

static bool bad_value(const char* filter) {
  return err(filter) == ErrorCode::BadValue;
}

static std::string msg_of(const char* filter) {
  std::string m;
  err(filter, &m);
  return m;
}

static bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

BOOST_AUTO_TEST_CASE(empty_filter_matches_everything) {
  BOOST_TEST(C("{}")->matches_all());
  BOOST_TEST(M("{}", R"({"a":1})"));
  BOOST_TEST(Matcher::compile(MpView())->matches_all());
  BOOST_TEST(!C(R"({"a":1})")->matches_all());
  BOOST_TEST(C(R"({"$comment":"why"})")->matches_all());
}

BOOST_AUTO_TEST_CASE(implicit_and_explicit_eq) {
  BOOST_TEST(M(R"({"a":1})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":1})", R"({"a":1.0})"));  // int and float by value
  BOOST_TEST(!M(R"({"a":1})", R"({"a":2})"));
  BOOST_TEST(!M(R"({"a":1})", R"({"a":"1"})"));
  BOOST_TEST(!M(R"({"a":1})", R"({"b":1})"));
  BOOST_TEST(M(R"({"a":{"$eq":"x"}})", R"({"a":"x"})"));
  BOOST_TEST(!M(R"({"a":{"$eq":"x"}})", R"({"a":"y"})"));
  BOOST_TEST(M(R"({"a":1,"b":"x"})", R"({"b":"x","a":1})"));
  BOOST_TEST(!M(R"({"a":1,"b":"x"})", R"({"a":1,"b":"y"})"));
  // a map value without operators is equality with that map (field order matters)
  BOOST_TEST(M(R"({"m":{"x":1,"y":2}})", R"({"m":{"x":1,"y":2}})"));
  BOOST_TEST(!M(R"({"m":{"x":1,"y":2}})", R"({"m":{"y":2,"x":1}})"));
  BOOST_TEST(!M(R"({"m":{"x":1}})", R"({"m":{"x":1,"y":2}})"));
  BOOST_TEST(M(R"({"m":{}})", R"({"m":{}})"));
  // dates and binary
  BOOST_TEST(M(R"({"d":{"$date":"2024-01-02T03:04:05.678Z"}})",
               R"({"d":{"$date":"2024-01-02T03:04:05.678Z"}})"));
  BOOST_TEST(!M(R"({"d":{"$date":"2024-01-02T03:04:05.678Z"}})",
                R"({"d":{"$date":"2024-01-02T03:04:05.679Z"}})"));
  BOOST_TEST(M(R"({"b":{"$binary":"AAE="}})", R"({"b":{"$binary":"AAE="}})"));
  BOOST_TEST(M(R"({"t":true})", R"({"t":true})"));
  BOOST_TEST(!M(R"({"t":true})", R"({"t":1})"));
}

BOOST_AUTO_TEST_CASE(array_semantics) {
  // an element matches
  BOOST_TEST(M(R"({"tags":"b"})", R"({"tags":["a","b"]})"));
  BOOST_TEST(!M(R"({"tags":"c"})", R"({"tags":["a","b"]})"));
  BOOST_TEST(M(R"({"tags":{"$eq":"b"}})", R"({"tags":["a","b"]})"));
  BOOST_TEST(M(R"({"n":{"$gt":5}})", R"({"n":[1,10]})"));
  BOOST_TEST(!M(R"({"n":{"$gt":50}})", R"({"n":[1,10]})"));
  // the whole array matches
  BOOST_TEST(M(R"({"tags":["a","b"]})", R"({"tags":["a","b"]})"));
  BOOST_TEST(!M(R"({"tags":["a","b"]})", R"({"tags":["b","a"]})"));
  BOOST_TEST(M(R"({"tags":["a","b"]})", R"({"tags":[["a","b"],"c"]})"));
  BOOST_TEST(!M(R"({"tags":"a"})", R"({"tags":[["a"]]})"));  // one level only
  // dot paths through maps and arrays of maps
  BOOST_TEST(M(R"({"address.city":"Paris"})", R"({"address":{"city":"Paris"}})"));
  BOOST_TEST(!M(R"({"address.city":"Paris"})", R"({"address":{"city":"Lyon"}})"));
  BOOST_TEST(M(R"({"items.sku":"b"})", R"({"items":[{"sku":"a"},{"sku":"b"}]})"));
  BOOST_TEST(!M(R"({"items.sku":"c"})", R"({"items":[{"sku":"a"},{"sku":"b"}]})"));
  BOOST_TEST(M(R"({"a.b.c":3})", R"({"a":[{"b":[{"c":1},{"c":3}]}]})"));
  BOOST_TEST(M(R"({"items.qty":{"$gte":5}})", R"({"items":[{"qty":1},{"qty":7}]})"));
  BOOST_TEST(M(R"({"items.tags":"x"})", R"({"items":[{"tags":["w"]},{"tags":["x","y"]}]})"));
  // numeric components select a position
  BOOST_TEST(M(R"({"tags.0":"a"})", R"({"tags":["a","b"]})"));
  BOOST_TEST(!M(R"({"tags.0":"b"})", R"({"tags":["a","b"]})"));
  BOOST_TEST(M(R"({"tags.1":"b"})", R"({"tags":["a","b"]})"));
  BOOST_TEST(!M(R"({"tags.5":"b"})", R"({"tags":["a","b"]})"));
  BOOST_TEST(M(R"({"items.1.sku":"b"})", R"({"items":[{"sku":"a"},{"sku":"b"}]})"));
  BOOST_TEST(M(R"({"m.0":"z"})", R"({"m":{"0":"z"}})"));
  // a path through a scalar reaches nothing
  BOOST_TEST(!M(R"({"a.b":1})", R"({"a":1})"));
  BOOST_TEST(!M(R"({"a.b":1})", R"({"a":[1,2]})"));
}

BOOST_AUTO_TEST_CASE(null_and_missing) {
  BOOST_TEST(M(R"({"a":null})", R"({"a":null})"));
  BOOST_TEST(M(R"({"a":null})", R"({"b":1})"));
  BOOST_TEST(!M(R"({"a":null})", R"({"a":0})"));
  BOOST_TEST(M(R"({"a":{"$eq":null}})", R"({})"));
  BOOST_TEST(M(R"({"a":null})", R"({"a":[1,null]})"));
  BOOST_TEST(!M(R"({"a":null})", R"({"a":[]})"));
  BOOST_TEST(M(R"({"a.b":null})", R"({"a":{"c":1}})"));
  BOOST_TEST(M(R"({"a.b":null})", R"({"a":[{"b":1},{"c":2}]})"));
  BOOST_TEST(!M(R"({"a.b":null})", R"({"a":[{"b":1},{"b":2}]})"));
  BOOST_TEST(M(R"({"a":{"$in":[null,5]}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$in":[4,5]}})", R"({})"));
  BOOST_TEST(M(R"({"a":{"$gte":null}})", R"({})"));
  BOOST_TEST(M(R"({"a":{"$lte":null}})", R"({"a":null})"));
  BOOST_TEST(!M(R"({"a":{"$gt":null}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$gt":null}})", R"({"a":1})"));
  // $ne: null excludes missing and null
  BOOST_TEST(!M(R"({"a":{"$ne":null}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$ne":null}})", R"({"a":null})"));
  BOOST_TEST(M(R"({"a":{"$ne":null}})", R"({"a":0})"));
  // other predicates never match a missing field
  BOOST_TEST(!M(R"({"a":{"$gt":0}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$regex":""}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$type":"null"}})", R"({})"));
  BOOST_TEST(M(R"({"a":{"$type":"null"}})", R"({"a":null})"));
}

BOOST_AUTO_TEST_CASE(ne_and_nin_negate_the_whole_field) {
  BOOST_TEST(M(R"({"a":{"$ne":1}})", R"({"a":2})"));
  BOOST_TEST(M(R"({"a":{"$ne":1}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$ne":1}})", R"({"a":1})"));
  BOOST_TEST(!M(R"({"a":{"$ne":1}})", R"({"a":[2,1]})"));
  BOOST_TEST(M(R"({"a":{"$ne":1}})", R"({"a":[2,3]})"));
  BOOST_TEST(!M(R"({"a.b":{"$ne":1}})", R"({"a":[{"b":2},{"b":1}]})"));
  BOOST_TEST(M(R"({"a":{"$nin":[1,2]}})", R"({"a":3})"));
  BOOST_TEST(M(R"({"a":{"$nin":[1,2]}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$nin":[1,2]}})", R"({"a":2})"));
  BOOST_TEST(!M(R"({"a":{"$nin":[1,2]}})", R"({"a":[5,2]})"));
  BOOST_TEST(!M(R"({"a":{"$nin":[null]}})", R"({})"));
}

BOOST_AUTO_TEST_CASE(ranges_are_type_bracketed) {
  BOOST_TEST(M(R"({"a":{"$gt":5}})", R"({"a":6})"));
  BOOST_TEST(M(R"({"a":{"$gt":5}})", R"({"a":5.5})"));
  BOOST_TEST(!M(R"({"a":{"$gt":5}})", R"({"a":5})"));
  BOOST_TEST(M(R"({"a":{"$gte":5}})", R"({"a":5.0})"));
  BOOST_TEST(M(R"({"a":{"$lt":5}})", R"({"a":-1})"));
  BOOST_TEST(!M(R"({"a":{"$lt":5}})", R"({"a":5})"));
  BOOST_TEST(M(R"({"a":{"$lte":5}})", R"({"a":5})"));
  BOOST_TEST(!M(R"({"a":{"$lte":5}})", R"({"a":5.01})"));
  // strings sort above numbers, but {$gt: 5} matches numbers only, {$lt: "a"} strings only
  BOOST_TEST(!M(R"({"a":{"$gt":5}})", R"({"a":"zzz"})"));
  BOOST_TEST(!M(R"({"a":{"$gt":5}})", R"({"a":true})"));
  BOOST_TEST(!M(R"({"a":{"$gt":5}})", R"({"a":null})"));
  BOOST_TEST(!M(R"({"a":{"$lt":"a"}})", R"({"a":1})"));
  BOOST_TEST(!M(R"({"a":{"$lt":"a"}})", R"({"a":null})"));
  BOOST_TEST(M(R"({"a":{"$gt":"a"}})", R"({"a":"b"})"));
  BOOST_TEST(!M(R"({"a":{"$gt":"b"}})", R"({"a":"a"})"));
  BOOST_TEST(M(R"({"a":{"$gte":"B"}})", R"({"a":"a"})"));  // bytewise
  // dates
  const char* after = R"({"d":{"$gt":{"$date":"2024-01-01T00:00:00Z"}}})";
  BOOST_TEST(M(after, R"({"d":{"$date":"2024-06-01T00:00:00Z"}})"));
  BOOST_TEST(!M(after, R"({"d":{"$date":"2023-06-01T00:00:00Z"}})"));
  BOOST_TEST(!M(after, R"({"d":99999999999999})"));
  // range on both sides
  const char* between = R"({"a":{"$gt":1,"$lt":5}})";
  BOOST_TEST(M(between, R"({"a":3})"));
  BOOST_TEST(!M(between, R"({"a":5})"));
  BOOST_TEST(!M(between, R"({"a":1})"));
  BOOST_TEST(M(between, R"({"a":[0,10]})"));  // each conjunct by a different element, as Mongo
  // large ints versus floats without precision loss
  BOOST_TEST(M(R"({"a":{"$gt":9007199254740992}})", R"({"a":9007199254740993})"));
  BOOST_TEST(!M(R"({"a":9007199254740993})", R"({"a":9007199254740992.0})"));
}

BOOST_AUTO_TEST_CASE(nan_equals_only_nan) {
  const char* nan = R"({"a":{"$numberDouble":"NaN"}})";
  BOOST_TEST(M(R"({"a":{"$numberDouble":"NaN"}})", nan));
  BOOST_TEST(!M(R"({"a":{"$lt":5}})", nan));
  BOOST_TEST(!M(R"({"a":{"$gt":-1e308}})", nan));
  BOOST_TEST(M(R"({"a":{"$gte":{"$numberDouble":"NaN"}}})", nan));
  BOOST_TEST(!M(R"({"a":{"$gt":{"$numberDouble":"NaN"}}})", nan));
  BOOST_TEST(!M(R"({"a":{"$lte":{"$numberDouble":"NaN"}}})", R"({"a":1})"));
}

BOOST_AUTO_TEST_CASE(in_operator) {
  BOOST_TEST(M(R"({"a":{"$in":[1,"x"]}})", R"({"a":"x"})"));
  BOOST_TEST(M(R"({"a":{"$in":[1,"x"]}})", R"({"a":1.0})"));
  BOOST_TEST(!M(R"({"a":{"$in":[1,"x"]}})", R"({"a":2})"));
  BOOST_TEST(M(R"({"a":{"$in":[1,"x"]}})", R"({"a":[3,"x"]})"));
  BOOST_TEST(!M(R"({"a":{"$in":[]}})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":{"$in":[[1,2]]}})", R"({"a":[1,2]})"));
  BOOST_TEST(M(R"({"a.b":{"$in":[7]}})", R"({"a":[{"b":1},{"b":7}]})"));
  // a long list takes the sorted path
  const char* many = R"({"a":{"$in":[20,19,18,17,16,15,14,13,12,11,10,"s",null,true]}})";
  BOOST_TEST(M(many, R"({"a":13})"));
  BOOST_TEST(M(many, R"({"a":13.0})"));
  BOOST_TEST(M(many, R"({"a":"s"})"));
  BOOST_TEST(M(many, R"({"a":true})"));
  BOOST_TEST(M(many, R"({})"));
  BOOST_TEST(!M(many, R"({"a":9})"));
  BOOST_TEST(!M(many, R"({"a":false})"));
  BOOST_TEST(!M(many, R"({"a":13.5})"));
  BOOST_TEST(M(many, R"({"a":[0,1,20]})"));
}

BOOST_AUTO_TEST_CASE(exists_operator) {
  BOOST_TEST(M(R"({"a":{"$exists":true}})", R"({"a":null})"));
  BOOST_TEST(!M(R"({"a":{"$exists":true}})", R"({"b":1})"));
  BOOST_TEST(M(R"({"a":{"$exists":false}})", R"({"b":1})"));
  BOOST_TEST(!M(R"({"a":{"$exists":false}})", R"({"a":0})"));
  BOOST_TEST(M(R"({"a":{"$exists":1}})", R"({"a":0})"));
  BOOST_TEST(M(R"({"a":{"$exists":0}})", R"({})"));
  BOOST_TEST(M(R"({"a.b":{"$exists":true}})", R"({"a":[{"c":1},{"b":1}]})"));
  BOOST_TEST(!M(R"({"a.b":{"$exists":true}})", R"({"a":[{"c":1}]})"));
  BOOST_TEST(!M(R"({"a.b":{"$exists":false}})", R"({"a":[{"c":1},{"b":1}]})"));
  BOOST_TEST(M(R"({"a.1":{"$exists":true}})", R"({"a":[5,6]})"));
  BOOST_TEST(!M(R"({"a.2":{"$exists":true}})", R"({"a":[5,6]})"));
}

BOOST_AUTO_TEST_CASE(type_operator) {
  BOOST_TEST(M(R"({"a":{"$type":"string"}})", R"({"a":"x"})"));
  BOOST_TEST(!M(R"({"a":{"$type":"string"}})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":{"$type":"int"}})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":{"$type":"long"}})", R"({"a":1})"));
  BOOST_TEST(!M(R"({"a":{"$type":"int"}})", R"({"a":1.5})"));
  BOOST_TEST(M(R"({"a":{"$type":"double"}})", R"({"a":1.5})"));
  BOOST_TEST(!M(R"({"a":{"$type":"double"}})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":{"$type":"number"}})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":{"$type":"number"}})", R"({"a":1.5})"));
  BOOST_TEST(!M(R"({"a":{"$type":"number"}})", R"({"a":"1"})"));
  BOOST_TEST(M(R"({"a":{"$type":"object"}})", R"({"a":{}})"));
  BOOST_TEST(M(R"({"a":{"$type":"array"}})", R"({"a":[]})"));
  BOOST_TEST(!M(R"({"a":{"$type":"array"}})", R"({"a":{}})"));
  BOOST_TEST(M(R"({"a":{"$type":"binData"}})", R"({"a":{"$binary":"AA=="}})"));
  BOOST_TEST(M(R"({"a":{"$type":"bool"}})", R"({"a":false})"));
  BOOST_TEST(M(R"({"a":{"$type":"date"}})", R"({"a":{"$date":"2020-01-01T00:00:00Z"}})"));
  BOOST_TEST(M(R"({"a":{"$type":"null"}})", R"({"a":null})"));
  // numeric codes, arrays of types, elements of arrays
  BOOST_TEST(M(R"({"a":{"$type":2}})", R"({"a":"x"})"));
  BOOST_TEST(M(R"({"a":{"$type":16}})", R"({"a":3})"));
  BOOST_TEST(M(R"({"a":{"$type":18}})", R"({"a":3})"));
  BOOST_TEST(M(R"({"a":{"$type":1}})", R"({"a":3.5})"));
  BOOST_TEST(M(R"({"a":{"$type":9}})", R"({"a":{"$date":"2020-01-01T00:00:00Z"}})"));
  BOOST_TEST(M(R"({"a":{"$type":10}})", R"({"a":null})"));
  BOOST_TEST(M(R"({"a":{"$type":8}})", R"({"a":true})"));
  BOOST_TEST(M(R"({"a":{"$type":4}})", R"({"a":[1]})"));
  BOOST_TEST(M(R"({"a":{"$type":3}})", R"({"a":{"b":1}})"));
  BOOST_TEST(M(R"({"a":{"$type":5}})", R"({"a":{"$binary":"AA=="}})"));
  BOOST_TEST(M(R"({"a":{"$type":["bool","string"]}})", R"({"a":"x"})"));
  BOOST_TEST(!M(R"({"a":{"$type":["bool","string"]}})", R"({"a":1})"));
  BOOST_TEST(M(R"({"a":{"$type":"string"}})", R"({"a":[1,"x"]})"));
  BOOST_TEST(!M(R"({"a":{"$type":"objectId"}})", R"({"a":"5f0c0c0c0c0c0c0c0c0c0c0c"})"));
  BOOST_TEST(bad_value(R"({"a":{"$type":"strin"}})"));
  BOOST_TEST(bad_value(R"({"a":{"$type":99}})"));
  BOOST_TEST(bad_value(R"({"a":{"$type":[]}})"));
  BOOST_TEST(bad_value(R"({"a":{"$type":true}})"));
}

BOOST_AUTO_TEST_CASE(regex_operator) {
  BOOST_TEST(M(R"({"s":{"$regex":"ell"}})", R"({"s":"hello"})"));  // unanchored
  BOOST_TEST(!M(R"({"s":{"$regex":"^ell"}})", R"({"s":"hello"})"));
  BOOST_TEST(!M(R"({"s":{"$regex":"ell"}})", R"({"s":"HELLO"})"));
  BOOST_TEST(!M(R"({"s":{"$regex":"1"}})", R"({"s":1})"));  // strings only
  BOOST_TEST(M(R"({"s":{"$regex":"^b"}})", R"({"s":["abc","bcd"]})"));
  BOOST_TEST(M(R"({"a.s":{"$regex":"z$"}})", R"({"a":[{"s":"x"},{"s":"xyz"}]})"));
  // i: case-insensitive (the TypeScript version matched nothing here)
  BOOST_TEST(M(R"({"s":{"$regex":"ell","$options":"i"}})", R"({"s":"HELLO"})"));
  BOOST_TEST(M(R"({"s":{"$options":"i","$regex":"^h"}})", R"({"s":"Hi"})"));
  BOOST_TEST(!M(R"({"s":{"$regex":"elx","$options":"i"}})", R"({"s":"HELLO"})"));
  // m: ^ and $ at line breaks
  BOOST_TEST(!M(R"({"s":{"$regex":"^two"}})", R"({"s":"one\ntwo"})"));
  BOOST_TEST(M(R"({"s":{"$regex":"^two","$options":"m"}})", R"({"s":"one\ntwo"})"));
  // s: dot matches a newline
  BOOST_TEST(!M(R"({"s":{"$regex":"one.two"}})", R"({"s":"one\ntwo"})"));
  BOOST_TEST(M(R"({"s":{"$regex":"one.two","$options":"s"}})", R"({"s":"one\ntwo"})"));
  BOOST_TEST(M(R"({"s":{"$regex":"^ONE.TWO$","$options":"ism"}})", R"({"s":"x\none\ntwo"})"));
}

BOOST_AUTO_TEST_CASE(regex_extended_option) {
  const char* x = R"({"s":{"$regex":"^ a b c # letters\n  [ ]? d $","$options":"x"}})";
  BOOST_TEST(M(x, R"({"s":"abcd"})"));
  BOOST_TEST(M(x, R"({"s":"abc d"})"));  // whitespace inside a class is kept
  BOOST_TEST(!M(x, R"({"s":"a b c d"})"));
  BOOST_TEST(M(R"({"s":{"$regex":"a\\ b\\#c","$options":"x"}})", R"({"s":"a b#c"})"));
  BOOST_TEST(M(R"({"s":{"$regex":"a b","$options":"xi"}})", R"({"s":"AB"})"));
  BOOST_TEST(!M(R"({"s":{"$regex":"a b"}})", R"({"s":"ab"})"));  // without x spaces count
  BOOST_TEST(filter::strip_extended("a # c\nb") == "ab");
  BOOST_TEST(filter::strip_extended("[ #]x") == "[ #]x");
  BOOST_TEST(filter::strip_extended("[] ]x") == "[] ]x");
  BOOST_TEST(filter::strip_extended("\\ a") == "\\ a");
}

BOOST_AUTO_TEST_CASE(size_operator) {
  BOOST_TEST(M(R"({"a":{"$size":2}})", R"({"a":[1,2]})"));
  BOOST_TEST(!M(R"({"a":{"$size":2}})", R"({"a":[1]})"));
  BOOST_TEST(M(R"({"a":{"$size":0}})", R"({"a":[]})"));
  BOOST_TEST(!M(R"({"a":{"$size":0}})", R"({})"));
  BOOST_TEST(!M(R"({"a":{"$size":1}})", R"({"a":"x"})"));
  BOOST_TEST(M(R"({"a":{"$size":1}})", R"({"a":[[1,2]]})"));   // the outer array has size 1
  BOOST_TEST(!M(R"({"a":{"$size":2}})", R"({"a":[[1,2]]})"));  // nested not counted
  BOOST_TEST(M(R"({"a":{"$size":2.0}})", R"({"a":[1,2]})"));
  BOOST_TEST(M(R"({"a.b":{"$size":1}})", R"({"a":[{"b":[1,2]},{"b":[3]}]})"));
}

BOOST_AUTO_TEST_CASE(all_operator) {
  BOOST_TEST(M(R"({"a":{"$all":[1,3]}})", R"({"a":[3,2,1]})"));
  BOOST_TEST(!M(R"({"a":{"$all":[1,4]}})", R"({"a":[3,2,1]})"));
  BOOST_TEST(M(R"({"a":{"$all":[1]}})", R"({"a":1})"));
  BOOST_TEST(!M(R"({"a":{"$all":[]}})", R"({"a":[1]})"));
  BOOST_TEST(M(R"({"a":{"$all":[[1,2]]}})", R"({"a":[1,2]})"));
  BOOST_TEST(M(R"({"a":{"$all":[[1,2]]}})", R"({"a":[[1,2],3]})"));
  BOOST_TEST(!M(R"({"a":{"$all":[1]}})", R"({})"));
  const char* em = R"({"a":{"$all":[{"$elemMatch":{"x":1}},{"$elemMatch":{"y":{"$gt":2}}}]}})";
  BOOST_TEST(M(em, R"({"a":[{"x":1},{"y":5}]})"));
  BOOST_TEST(!M(em, R"({"a":[{"x":1},{"y":1}]})"));
}

BOOST_AUTO_TEST_CASE(elem_match_operator) {
  // value form: one element satisfies every operator
  const char* v = R"({"a":{"$elemMatch":{"$gt":1,"$lt":5}}})";
  BOOST_TEST(M(v, R"({"a":[0,3,10]})"));
  BOOST_TEST(!M(v, R"({"a":[0,10]})"));
  BOOST_TEST(!M(v, R"({"a":3})"));  // not an array
  BOOST_TEST(M(R"({"a":{"$elemMatch":{"$ne":1}}})", R"({"a":[1,2]})"));
  BOOST_TEST(!M(R"({"a":{"$elemMatch":{"$ne":1}}})", R"({"a":[1,1]})"));
  BOOST_TEST(M(R"({"a":{"$elemMatch":{"$regex":"^b"}}})", R"({"a":["a","bc"]})"));
  // document form: one map element matches the sub-filter
  const char* d = R"({"items":{"$elemMatch":{"sku":"a","qty":{"$gte":5}}}})";
  BOOST_TEST(M(d, R"({"items":[{"sku":"a","qty":1},{"sku":"a","qty":6}]})"));
  BOOST_TEST(!M(d, R"({"items":[{"sku":"a","qty":1},{"sku":"b","qty":6}]})"));
  BOOST_TEST(M(R"({"items.sku":"a","items.qty":{"$gte":5}})",
               R"({"items":[{"sku":"a","qty":1},{"sku":"b","qty":6}]})"));  // without: any
  BOOST_TEST(M(R"({"items":{"$elemMatch":{"$or":[{"x":1},{"y":1}]}}})", R"({"items":[{"y":1}]})"));
  BOOST_TEST(!M(R"({"items":{"$elemMatch":{"x":1}}})", R"({"items":[1,2]})"));
  BOOST_TEST(M(R"({"items":{"$elemMatch":{}}})", R"({"items":[1,{}]})"));
  BOOST_TEST(!M(R"({"items":{"$elemMatch":{}}})", R"({"items":[1]})"));
  BOOST_TEST(M(R"({"a.b":{"$elemMatch":{"c":2}}})", R"({"a":{"b":[{"c":1},{"c":2}]}})"));
  BOOST_TEST(bad_value(R"({"a":{"$elemMatch":[1]}})"));
}

BOOST_AUTO_TEST_CASE(mod_operator) {
  BOOST_TEST(M(R"({"a":{"$mod":[4,1]}})", R"({"a":9})"));
  BOOST_TEST(!M(R"({"a":{"$mod":[4,1]}})", R"({"a":10})"));
  BOOST_TEST(M(R"({"a":{"$mod":[4,1]}})", R"({"a":9.7})"));  // truncated
  BOOST_TEST(M(R"({"a":{"$mod":[4,-1]}})", R"({"a":-9})"));
  BOOST_TEST(!M(R"({"a":{"$mod":[4,1]}})", R"({"a":"9"})"));
  BOOST_TEST(M(R"({"a":{"$mod":[4,1]}})", R"({"a":[2,5]})"));
  BOOST_TEST(M(R"({"a":{"$mod":[-1,0]}})", R"({"a":-9223372036854775808})"));
  BOOST_TEST(!M(R"({"a":{"$mod":[2,0]}})", R"({"a":{"$numberDouble":"NaN"}})"));
  BOOST_TEST(bad_value(R"({"a":{"$mod":[0,1]}})"));
  BOOST_TEST(bad_value(R"({"a":{"$mod":[0.5,1]}})"));
  BOOST_TEST(bad_value(R"({"a":{"$mod":[4]}})"));
  BOOST_TEST(bad_value(R"({"a":{"$mod":4}})"));
  BOOST_TEST(bad_value(R"({"a":{"$mod":["4",1]}})"));
}

BOOST_AUTO_TEST_CASE(not_operator) {
  BOOST_TEST(M(R"({"a":{"$not":{"$gt":5}}})", R"({"a":3})"));
  BOOST_TEST(!M(R"({"a":{"$not":{"$gt":5}}})", R"({"a":6})"));
  BOOST_TEST(M(R"({"a":{"$not":{"$gt":5}}})", R"({})"));           // missing matches
  BOOST_TEST(M(R"({"a":{"$not":{"$gt":5}}})", R"({"a":"zzz"})"));  // bracketing negated
  BOOST_TEST(!M(R"({"a":{"$not":{"$gt":5}}})", R"({"a":[1,9]})"));
  BOOST_TEST(M(R"({"s":{"$not":{"$regex":"^a","$options":"i"}}})", R"({"s":"bcd"})"));
  BOOST_TEST(!M(R"({"s":{"$not":{"$regex":"^a","$options":"i"}}})", R"({"s":"Abc"})"));
  BOOST_TEST(M(R"({"a":{"$not":{"$gt":1,"$lt":5}}})", R"({"a":7})"));
  BOOST_TEST(!M(R"({"a":{"$not":{"$gt":1,"$lt":5}}})", R"({"a":3})"));
  BOOST_TEST(bad_value(R"({"a":{"$not":5}})"));
  BOOST_TEST(bad_value(R"({"a":{"$not":{}}})"));
  BOOST_TEST(bad_value(R"({"a":{"$not":{"b":1}}})"));
}

BOOST_AUTO_TEST_CASE(logical_operators) {
  const char* o = R"({"$or":[{"a":1},{"b":2}]})";
  BOOST_TEST(M(o, R"({"a":1})"));
  BOOST_TEST(M(o, R"({"b":2})"));
  BOOST_TEST(!M(o, R"({"a":2,"b":1})"));
  const char* a = R"({"$and":[{"a":{"$gt":1}},{"a":{"$lt":5}}]})";
  BOOST_TEST(M(a, R"({"a":3})"));
  BOOST_TEST(!M(a, R"({"a":5})"));
  const char* n = R"({"$nor":[{"a":1},{"b":2}]})";
  BOOST_TEST(M(n, R"({"a":2})"));
  BOOST_TEST(M(n, R"({})"));
  BOOST_TEST(!M(n, R"({"b":2})"));
  // nested logic
  const char* deep = R"({"$or":[{"$and":[{"a":1},{"b":1}]},{"$nor":[{"c":{"$exists":true}}]}]})";
  BOOST_TEST(M(deep, R"({"a":1,"b":1,"c":1})"));
  BOOST_TEST(M(deep, R"({"a":1})"));
  BOOST_TEST(!M(deep, R"({"a":1,"c":0})"));
  BOOST_TEST(M(R"({"$or":[{}]})", R"({"x":1})"));
}

BOOST_AUTO_TEST_CASE(fields_beside_or_are_required) {
  // the TypeScript memgoose ignored `status` here
  const char* f = R"({"status":"a","$or":[{"x":1},{"y":1}]})";
  BOOST_TEST(M(f, R"({"status":"a","x":1})"));
  BOOST_TEST(!M(f, R"({"status":"b","x":1})"));
  BOOST_TEST(!M(f, R"({"x":1})"));
  BOOST_TEST(!M(f, R"({"status":"a"})"));
  const char* g = R"({"$or":[{"x":1}],"n":{"$gt":2},"$nor":[{"z":1}]})";
  BOOST_TEST(M(g, R"({"x":1,"n":3})"));
  BOOST_TEST(!M(g, R"({"x":1,"n":1})"));
  BOOST_TEST(!M(g, R"({"x":1,"n":3,"z":1})"));
}

BOOST_AUTO_TEST_CASE(dot_paths_really_match) {
  // the TypeScript memgoose matched nothing with dot paths
  const char* docs[] = {R"({"p":{"q":{"r":"x"}}})", R"({"p":{"q":{"r":"y"}}})"};
  BOOST_TEST(M(R"({"p.q.r":"x"})", docs[0]));
  BOOST_TEST(!M(R"({"p.q.r":"x"})", docs[1]));
  BOOST_TEST(M(R"({"p.q.r":{"$in":["y"]}})", docs[1]));
  BOOST_TEST(M(R"({"p.q":{"r":"y"}})", docs[1]));
}

BOOST_AUTO_TEST_CASE(compile_errors_are_bad_value_and_name_the_problem) {
  std::string msg;
  BOOST_TEST(int(err(R"({"a":{"$foo":1}})", &msg)) == int(ErrorCode::BadValue));
  BOOST_TEST(contains(msg, "$foo"));
  BOOST_TEST(contains(msg, "'a'"));
  BOOST_TEST(int(err(R"({"$where":"1"})", &msg)) == int(ErrorCode::BadValue));
  BOOST_TEST(contains(msg, "$where"));
  BOOST_TEST(contains(msg_of(R"({"x.y":{"$in":5}})"), "'x.y'"));
  BOOST_TEST(bad_value(R"({"a":{"$in":5}})"));
  BOOST_TEST(bad_value(R"({"a":{"$nin":"x"}})"));
  BOOST_TEST(bad_value(R"({"a":{"$all":{"b":1}}})"));
  BOOST_TEST(bad_value(R"({"a":{"$size":1.5}})"));
  BOOST_TEST(bad_value(R"({"a":{"$size":"2"}})"));
  BOOST_TEST(bad_value(R"({"a":{"$size":-1}})"));
  BOOST_TEST(int(err(R"({"a":{"$regex":"("}})", &msg)) == int(ErrorCode::BadValue));
  BOOST_TEST(contains(msg, "'a'"));
  BOOST_TEST(bad_value(R"({"a":{"$regex":"(?<=a)b"}})"));  // RE2 has no lookbehind
  BOOST_TEST(bad_value(R"({"a":{"$regex":5}})"));
  BOOST_TEST(int(err(R"({"a":{"$regex":"a","$options":"g"}})", &msg)) == int(ErrorCode::BadValue));
  BOOST_TEST(contains(msg, "$options"));
  BOOST_TEST(bad_value(R"({"a":{"$regex":"a","$options":1}})"));
  BOOST_TEST(bad_value(R"({"a":{"$options":"i"}})"));
  BOOST_TEST(bad_value((R"({"a":{"$regex":")" + std::string(40000, 'a') + R"("}})").c_str()));
  BOOST_TEST(bad_value(R"({"$and":{"a":1}})"));
  BOOST_TEST(bad_value(R"({"$and":[]})"));
  BOOST_TEST(bad_value(R"({"$or":[1]})"));
  BOOST_TEST(bad_value(R"({"$nor":"x"})"));
  BOOST_TEST(bad_value(R"({"a":{"$gt":1,"b":2}})"));  // operators mixed with fields
  BOOST_TEST(bad_value(R"({"a..b":1})"));
  BOOST_TEST(bad_value(R"({"$or":[{"a":{"$bad":1}}]})"));  // nested errors too
  BOOST_TEST(bad_value(R"({"a":{"$elemMatch":{"$gt":1,"$zz":1}}})"));
  BOOST_TEST(bad_value("[1]"));
  BOOST_TEST(int(err(R"({"a":{"$gt":1,"$lt":[2]}})")) == int(ErrorCode::Ok));
}

BOOST_AUTO_TEST_CASE(matches_never_throws_on_odd_input) {
  auto m = C(R"({"a.b":{"$regex":"x"},"c":1})");
  BOOST_TEST(!m->matches(MpView()));
  std::string arr = J("[1,2]");
  BOOST_TEST(!m->matches(MpView(arr)));
}

// ---- The planner's view -------------------------------------------------------------------

static const PathConstraint* find(const Matcher& m, const char* path) {
  for (auto& c : m.constraints())
    if (c.path == path) return &c;
  return nullptr;
}

static std::string JS(const std::string& mp) {
  return json_from_mp(mp);
}

BOOST_AUTO_TEST_CASE(constraints_from_the_top_level_conjunction) {
  auto m = C(R"({"a":1,"b":{"$gte":2,"$lt":9},"c":{"$in":[3,1,3.0]},"$and":[{"d":"x"}]})");
  BOOST_TEST(m->constraints().size() == 4u);
  const PathConstraint* a = find(*m, "a");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->has_eq);
  BOOST_TEST(a->eq_values.size() == 1u);
  BOOST_TEST(JS(a->eq_values[0]) == "1");
  BOOST_TEST((!a->has_lower && !a->has_upper));
  const PathConstraint* b = find(*m, "b");
  BOOST_REQUIRE(b);
  BOOST_TEST(!b->has_eq);
  BOOST_TEST((b->has_lower && b->lower_inclusive && JS(b->lower) == "2"));
  BOOST_TEST((b->has_upper && !b->upper_inclusive && JS(b->upper) == "9"));
  const PathConstraint* c = find(*m, "c");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->has_eq);
  BOOST_TEST(c->eq_values.size() == 2u);  // sorted, 3 and 3.0 are one value
  BOOST_TEST(JS(c->eq_values[0]) == "1");
  const PathConstraint* d = find(*m, "d");
  BOOST_REQUIRE(d);
  BOOST_TEST(JS(d->eq_values[0]) == R"("x")");
  BOOST_TEST(m->only_constraints());
}

BOOST_AUTO_TEST_CASE(what_is_not_a_constraint) {
  auto m = C(R"({"a":{"$ne":1},"b":[1,2],"c":{"x":1},"$or":[{"d":1}],"e":{"$regex":"x"}})");
  BOOST_TEST(m->constraints().empty());
  BOOST_TEST(!m->only_constraints());
  // a constraint next to something else: usable, but not the whole filter
  auto n = C(R"({"a":5,"b":{"$exists":true}})");
  BOOST_TEST(n->constraints().size() == 1u);
  BOOST_TEST(!n->only_constraints());
  auto o = C(R"({"a":5,"$or":[{"b":1},{"c":1}]})");
  BOOST_TEST(o->constraints().size() == 1u);
  BOOST_TEST(!o->only_constraints());
  // $in with a non-scalar element
  auto p = C(R"({"a":{"$in":[1,[2]]}})");
  BOOST_TEST(p->constraints().empty());
  // two equalities on one path: one is kept, the filter is more than the constraints
  auto q = C(R"({"a":1,"$and":[{"a":2}]})");
  BOOST_TEST(q->constraints().size() == 1u);
  BOOST_TEST(q->constraints()[0].eq_values.size() == 1u);
  BOOST_TEST(!q->only_constraints());
  // empty $in: an equality with no values (matches nothing)
  auto r = C(R"({"a":{"$in":[]}})");
  BOOST_REQUIRE(r->constraints().size() == 1u);
  BOOST_TEST(r->constraints()[0].has_eq);
  BOOST_TEST(r->constraints()[0].eq_values.empty());
  BOOST_TEST(r->only_constraints());
  // scalar types: nil, bool, date, bin are constraints
  auto s = C(R"({"n":null,"t":true,"d":{"$lte":{"$date":"2020-01-01T00:00:00Z"}}})");
  BOOST_TEST(s->constraints().size() == 3u);
  BOOST_TEST(s->only_constraints());
  BOOST_TEST(!C("{}")->only_constraints());
  BOOST_TEST(C(R"({"a.b":{"$eq":1}})")->only_constraints());
}

BOOST_AUTO_TEST_CASE(equalities_seed_upserts_in_filter_order) {
  auto m = C(R"({"z":1,"a":{"$eq":{"k":[1]}},"n":{"$gt":1},"$and":[{"b.c":"x"},{"$or":[{"q":1}]}],)"
             R"("t":[1,2],"m":{"x":1}})");
  auto eqs = m->equalities();
  BOOST_REQUIRE(eqs.size() == 5u);
  BOOST_TEST(eqs[0].first == "z");
  BOOST_TEST(JS(eqs[0].second) == "1");
  BOOST_TEST(eqs[1].first == "a");
  BOOST_TEST(JS(eqs[1].second) == R"({"k":[1]})");
  BOOST_TEST(eqs[2].first == "b.c");
  BOOST_TEST(eqs[3].first == "t");
  BOOST_TEST(JS(eqs[3].second) == "[1,2]");
  BOOST_TEST(eqs[4].first == "m");
  BOOST_TEST(C(R"({"a":{"$in":[1]},"$or":[{"b":1}]})")->equalities().empty());
}

BOOST_AUTO_TEST_CASE(a_compiled_matcher_is_reusable) {
  auto m = C(R"({"tags":"x","n":{"$gte":2}})");
  std::string yes = J(R"({"tags":["x","y"],"n":2})"), no = J(R"({"tags":["y"],"n":2})");
  for (int i = 0; i < 1000; ++i) {
    BOOST_TEST_REQUIRE(m->matches(MpView(yes)));
    BOOST_TEST_REQUIRE(!m->matches(MpView(no)));
  }
}
