// Sort specifications: several keys, directions, missing fields as nil, MongoDB's type order,
// and arrays by their smallest / largest element (CONTRACT.md §4, §5).
#define BOOST_TEST_MODULE sort
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/ejson.h"
#include "core/error.h"
#include "core/msgpack.h"
#include "core/sort.h"

using namespace mg;

namespace {

std::string J(const char* json) {
  return mp_from_json(json);
}

SortSpec spec(const char* json) {
  std::string s = J(json);
  return SortSpec::compile(MpView(s));
}

// Sorts the documents (stable) and returns their "_id"s in order.
std::vector<int64_t> sorted_ids(const char* sort, std::vector<const char*> docs) {
  SortSpec s = spec(sort);
  std::vector<std::string> enc;
  for (const char* d : docs) enc.push_back(J(d));
  std::stable_sort(enc.begin(), enc.end(), [&](const std::string& a, const std::string& b) {
    return s.compare(MpView(a), MpView(b)) < 0;
  });
  std::vector<int64_t> ids;
  for (const std::string& e : enc) ids.push_back(MpView(e).get("_id").as_int());
  return ids;
}

using Ids = std::vector<int64_t>;

}  // namespace

BOOST_AUTO_TEST_CASE(compile_parses_keys_and_directions) {
  SortSpec s = spec(R"({"a":1,"b.c":-1,"d":-1.0,"e":1.0})");
  BOOST_TEST(s.keys().size() == 4u);
  BOOST_TEST(s.keys()[0].path.dotted == "a");
  BOOST_TEST(s.keys()[1].path.parts.size() == 2u);
  BOOST_TEST(s.keys()[1].direction == -1);
  BOOST_TEST(s.keys()[2].direction == -1);
  BOOST_TEST(s.keys()[3].direction == 1);
  BOOST_TEST(SortSpec::compile(MpView()).empty());
  BOOST_TEST(spec("{}").empty());
  for (const char* bad : {R"({"a":2})", R"({"a":0})", R"({"a":"asc"})", R"({"a":true})",
                          R"({"a":1.5})", R"({"a..b":1})", R"({"a":{"$meta":"x"}})", "[1]"}) {
    ErrorCode code = ErrorCode::Ok;
    try {
      spec(bad);
    } catch (const Error& e) {
      code = e.status.code;
    }
    BOOST_TEST(int(code) == int(ErrorCode::BadValue), bad);
  }
}

BOOST_AUTO_TEST_CASE(single_key_both_directions) {
  std::vector<const char*> docs = {R"({"_id":1,"n":3})", R"({"_id":2,"n":1})",
                                   R"({"_id":3,"n":2.5})", R"({"_id":4,"n":-7})"};
  BOOST_TEST(sorted_ids(R"({"n":1})", docs) == (Ids{4, 2, 3, 1}));
  BOOST_TEST(sorted_ids(R"({"n":-1})", docs) == (Ids{1, 3, 2, 4}));
}

BOOST_AUTO_TEST_CASE(several_keys_break_ties_in_order) {
  std::vector<const char*> docs = {R"({"_id":1,"g":"b","n":1})", R"({"_id":2,"g":"a","n":1})",
                                   R"({"_id":3,"g":"b","n":2})", R"({"_id":4,"g":"a","n":5})",
                                   R"({"_id":5,"g":"a","n":5,"m":{"x":1}})"};
  BOOST_TEST(sorted_ids(R"({"g":1,"n":-1})", docs) == (Ids{4, 5, 2, 3, 1}));
  BOOST_TEST(sorted_ids(R"({"g":-1,"n":1})", docs) == (Ids{1, 3, 2, 4, 5}));
  BOOST_TEST(sorted_ids(R"({"g":1,"n":-1,"m.x":-1})", docs) == (Ids{5, 4, 2, 3, 1}));
}

BOOST_AUTO_TEST_CASE(missing_sorts_as_nil_before_everything) {
  std::vector<const char*> docs = {R"({"_id":1,"v":0})", R"({"_id":2})", R"({"_id":3,"v":null})",
                                   R"({"_id":4,"v":"s"})"};
  BOOST_TEST(sorted_ids(R"({"v":1})", docs) == (Ids{2, 3, 1, 4}));  // missing == nil, stable
  BOOST_TEST(sorted_ids(R"({"v":-1})", docs) == (Ids{4, 1, 2, 3}));
  SortSpec s = spec(R"({"v":1})");
  std::string d = J(R"({"_id":2})");
  BOOST_TEST(!s.key_of(MpView(d), 0).valid());
}

BOOST_AUTO_TEST_CASE(mixed_types_follow_mongo_order) {
  // nil < numbers < strings < maps < arrays < bin < bool < dates
  std::vector<const char*> docs = {R"({"_id":8,"v":{"$date":"2020-01-01T00:00:00Z"}})",
                                   R"({"_id":7,"v":true})",
                                   R"({"_id":6,"v":{"$binary":"AA=="}})",
                                   R"({"_id":5,"v":[[1]]})",
                                   R"({"_id":4,"v":{"a":1}})",
                                   R"({"_id":3,"v":"str"})",
                                   R"({"_id":2,"v":42})",
                                   R"({"_id":1,"v":null})"};
  BOOST_TEST(sorted_ids(R"({"v":1})", docs) == (Ids{1, 2, 3, 4, 5, 6, 7, 8}));
  BOOST_TEST(sorted_ids(R"({"v":-1})", docs) == (Ids{8, 7, 6, 5, 4, 3, 2, 1}));
  // ints and floats by value
  std::vector<const char*> nums = {R"({"_id":1,"v":2})", R"({"_id":2,"v":1.5})",
                                   R"({"_id":3,"v":1})"};
  BOOST_TEST(sorted_ids(R"({"v":1})", nums) == (Ids{3, 2, 1}));
}

BOOST_AUTO_TEST_CASE(arrays_sort_by_min_ascending_and_max_descending) {
  std::vector<const char*> docs = {R"({"_id":1,"t":[5,1,9]})", R"({"_id":2,"t":[3,4]})",
                                   R"({"_id":3,"t":2})", R"({"_id":4,"t":[10]})"};
  // ascending keys 1, 3, 2, 10
  BOOST_TEST(sorted_ids(R"({"t":1})", docs) == (Ids{1, 3, 2, 4}));
  // descending keys 9, 4, 2, 10
  BOOST_TEST(sorted_ids(R"({"t":-1})", docs) == (Ids{4, 1, 2, 3}));
  SortSpec asc = spec(R"({"t":1})"), desc = spec(R"({"t":-1})");
  std::string d = J(R"({"t":[5,"x",1,null]})");
  std::string nil = J("null");
  BOOST_TEST(SortSpec::compare_keys(asc.key_of(MpView(d), 0), MpView(nil)) == 0);
  BOOST_TEST(SortSpec::compare_keys(asc.key_of(MpView(d), 0), MpView()) == 0);
  BOOST_TEST(desc.key_of(MpView(d), 0).as_str() == "x");
  // an empty array sorts before nil and missing
  std::vector<const char*> empt = {R"({"_id":1,"t":null})", R"({"_id":2,"t":[]})",
                                   R"({"_id":3,"t":[0]})"};
  BOOST_TEST(sorted_ids(R"({"t":1})", empt) == (Ids{2, 1, 3}));
  BOOST_TEST(sorted_ids(R"({"t":-1})", empt) == (Ids{3, 1, 2}));
}

BOOST_AUTO_TEST_CASE(dot_paths_fan_out_over_arrays_of_maps) {
  std::vector<const char*> docs = {R"({"_id":1,"a":[{"b":4},{"b":8}]})", R"({"_id":2,"a":{"b":6}})",
                                   R"({"_id":3,"a":[{"b":5},{"c":1}]})",
                                   R"({"_id":4,"a":[{"b":[2,9]}]})"};
  // ascending mins: 4, 6, nil (the element without b), 2
  BOOST_TEST(sorted_ids(R"({"a.b":1})", docs) == (Ids{3, 4, 1, 2}));
  // descending maxes: 8, 6, 5, 9
  BOOST_TEST(sorted_ids(R"({"a.b":-1})", docs) == (Ids{4, 1, 2, 3}));
  SortSpec s = spec(R"({"a.1.b":1})");
  std::string d = J(R"({"a":[{"b":4},{"b":8}]})");
  BOOST_TEST(s.key_of(MpView(d), 0).as_int() == 8);
}
