// Projections: inclusion, exclusion, _id, dot paths through maps and arrays, field order, and
// the compile errors (CONTRACT.md §5).
#define BOOST_TEST_MODULE projection
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/ejson.h"
#include "core/error.h"
#include "core/msgpack.h"
#include "core/projection.h"

using namespace mg;

namespace {

std::string J(const char* json) {
  return mp_from_json(json);
}
std::string N(const char* json) {
  return json_from_mp(J(json));
}

std::string project(const char* doc, const char* projection) {
  std::string p = J(projection);
  auto proj = Projection::compile(MpView(p));
  std::string d = J(doc), out = "prefix";
  proj->apply(MpView(d), out);
  BOOST_TEST(out.substr(0, 6) == "prefix");  // appends
  std::string result = out.substr(6);
  BOOST_TEST(validate(result).ok());
  return json_from_mp(result);
}

ErrorCode compile_code(const char* projection) {
  std::string p = J(projection);
  try {
    Projection::compile(MpView(p));
  } catch (const Error& e) {
    return e.status.code;
  }
  return ErrorCode::Ok;
}

const char* kDoc = R"({"_id":7,"a":1,"b":{"c":2,"d":3},"e":[1,2],"f":"x"})";

}  // namespace

BOOST_AUTO_TEST_CASE(empty_projection_is_identity) {
  std::string p = J("{}");
  BOOST_TEST(Projection::compile(MpView(p))->is_identity());
  BOOST_TEST(Projection::compile(MpView())->is_identity());
  BOOST_TEST(!Projection::compile(MpView(J(R"({"a":1})")))->is_identity());
  BOOST_TEST(project(kDoc, "{}") == N(kDoc));
}

BOOST_AUTO_TEST_CASE(inclusion_keeps_listed_fields_and_id_in_document_order) {
  BOOST_TEST(project(kDoc, R"({"f":1,"a":1})") == N(R"({"_id":7,"a":1,"f":"x"})"));
  BOOST_TEST(project(kDoc, R"({"b":true,"e":1})") == N(R"({"_id":7,"b":{"c":2,"d":3},"e":[1,2]})"));
  BOOST_TEST(project(kDoc, R"({"a":0.5})") == N(R"({"_id":7,"a":1})"));  // non-zero includes
  BOOST_TEST(project(kDoc, R"({"missing":1})") == N(R"({"_id":7})"));
}

BOOST_AUTO_TEST_CASE(id_can_be_excluded_from_an_inclusion) {
  BOOST_TEST(project(kDoc, R"({"_id":0,"a":1,"f":1})") == N(R"({"a":1,"f":"x"})"));
  BOOST_TEST(project(kDoc, R"({"a":1,"_id":false})") == N(R"({"a":1})"));
  BOOST_TEST(project(kDoc, R"({"_id":1})") == N(R"({"_id":7})"));
  BOOST_TEST(project(kDoc, R"({"_id":0})") == N(R"({"a":1,"b":{"c":2,"d":3},"e":[1,2],"f":"x"})"));
}

BOOST_AUTO_TEST_CASE(exclusion_drops_listed_fields) {
  BOOST_TEST(project(kDoc, R"({"b":0,"e":false})") == N(R"({"_id":7,"a":1,"f":"x"})"));
  BOOST_TEST(project(kDoc, R"({"b.c":0})") ==
             N(R"({"_id":7,"a":1,"b":{"d":3},"e":[1,2],"f":"x"})"));
  BOOST_TEST(project(kDoc, R"({"_id":0,"a":0})") == N(R"({"b":{"c":2,"d":3},"e":[1,2],"f":"x"})"));
  BOOST_TEST(project(kDoc, R"({"_id":1,"a":0})") ==
             N(R"({"_id":7,"b":{"c":2,"d":3},"e":[1,2],"f":"x"})"));
}

BOOST_AUTO_TEST_CASE(dot_paths_reach_into_maps) {
  BOOST_TEST(project(kDoc, R"({"b.d":1})") == N(R"({"_id":7,"b":{"d":3}})"));
  BOOST_TEST(project(R"({"_id":1,"x":{"y":{"z":1,"w":2},"v":3}})", R"({"x.y.w":1,"x.v":1})") ==
             N(R"({"_id":1,"x":{"y":{"w":2},"v":3}})"));
  // a path into a scalar or into a map without the field
  BOOST_TEST(project(R"({"_id":1,"a":5,"b":{"c":1}})", R"({"a.x":1,"b.z":1})") ==
             N(R"({"_id":1,"b":{}})"));
}

BOOST_AUTO_TEST_CASE(dot_paths_apply_to_each_map_of_an_array) {
  BOOST_TEST(project(R"({"_id":1,"a":[{"b":1,"c":2},{"c":3}]})", R"({"a.b":1})") ==
             N(R"({"_id":1,"a":[{"b":1},{}]})"));
  // inclusion drops non-map elements; nested arrays are walked too
  BOOST_TEST(project(R"({"_id":1,"a":[{"b":1,"c":2},5,"s",[{"b":2,"d":1},7]]})", R"({"a.b":1})") ==
             N(R"({"_id":1,"a":[{"b":1},[{"b":2}]]})"));
  // exclusion keeps them
  BOOST_TEST(project(R"({"_id":1,"a":[{"b":1,"c":2},5,[{"b":2,"d":1}]]})", R"({"a.b":0})") ==
             N(R"({"_id":1,"a":[{"c":2},5,[{"d":1}]]})"));
  BOOST_TEST(project(R"({"_id":1,"a":[{"b":{"c":1,"d":2}}]})", R"({"a.b.d":1})") ==
             N(R"({"_id":1,"a":[{"b":{"d":2}}]})"));
}

BOOST_AUTO_TEST_CASE(large_documents_keep_their_encoding) {
  // more than 15 fields and 15 elements: map16 / array16 headers are counted right
  std::string json = R"({"_id":1,"arr":[)";
  for (int i = 0; i < 40; ++i)
    json += (i ? "," : "") + std::string(R"({"k":)") + std::to_string(i) + R"(,"z":0})";
  json += "]";
  for (int i = 0; i < 40; ++i) json += ",\"f" + std::to_string(i) + "\":" + std::to_string(i);
  json += "}";
  std::string out = project(json.c_str(), R"({"f3":0,"arr.z":0})");
  std::string enc = J(out.c_str());
  MpView v(enc);
  BOOST_TEST(v.count() == 41u);
  BOOST_TEST(!v.get("f3").valid());
  BOOST_TEST(v.get("f39").as_int() == 39);
  BOOST_TEST(v.get("arr").count() == 40u);
  BOOST_TEST(v.get("arr").at(39).get("k").as_int() == 39);
  BOOST_TEST(!v.get("arr").at(39).get("z").valid());
}

BOOST_AUTO_TEST_CASE(compile_errors_are_bad_value) {
  BOOST_TEST(int(compile_code(R"({"a":1,"b":0})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code(R"({"a":0,"b.c":1})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code(R"({"a":{"$slice":1}})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code(R"({"a":"yes"})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code(R"({"a":1,"a.b":1})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code(R"({"a..b":1})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code(R"({"$a":1})")) == int(ErrorCode::BadValue));
  BOOST_TEST(int(compile_code("[1]")) == int(ErrorCode::BadValue));
  // _id may be excluded from an inclusion and included in an exclusion
  BOOST_TEST(int(compile_code(R"({"_id":0,"a":1})")) == int(ErrorCode::Ok));
  BOOST_TEST(int(compile_code(R"({"_id":1,"a":0})")) == int(ErrorCode::Ok));
}
