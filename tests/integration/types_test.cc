// tests/integration/types_test.cc — values through the wire (CONTRACT.md §4): what a client
// inserts is what it reads back, types included. Ints of every encoding stay ints, floats
// (float32 and float64) stay floats, str and bin keep their bytes, dates sent in all three
// timestamp encodings come back as the same instant, nested maps and arrays and field order are
// kept, and the cross-type comparison and sort order is MongoDB's.
#define BOOST_TEST_MODULE integration_types
#include <cmath>
#include <cstring>

#include "tests/integration/harness.h"

using namespace mg::it;
using mg::Date;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(char((v >> (8 * i)) & 0xff));
}

// The three MessagePack timestamp encodings (type -1), written by hand.
std::string ts32(uint32_t sec) {
  std::string out("\xd6\xff", 2);
  put_be(out, sec, 4);
  return out;
}
std::string ts64(uint64_t sec, uint32_t nsec) {
  std::string out("\xd7\xff", 2);
  put_be(out, uint64_t(nsec) << 34 | sec, 8);
  return out;
}
std::string ts96(int64_t sec, uint32_t nsec) {
  std::string out("\xc7\x0c\xff", 3);
  put_be(out, nsec, 4);
  put_be(out, uint64_t(sec), 8);
  return out;
}

// A map from (key, encoded value) pairs, written in the given order.
std::string map_of(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  MpWriter w(out);
  w.map_header(uint32_t(fields.size()));
  for (auto& [k, v] : fields) {
    w.str(k);
    w.raw(v);
  }
  return out;
}

// The bytes of a string literal, NULs included.
template <size_t N>
std::string enc(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// Inserts `doc` (which has an `_id`) raw and reads it back by that `_id`.
std::string round_trip(Client& c, const std::string& model, const std::string& doc) {
  c.command(Request("insertOne", "", model).arg("doc", doc));
  auto back = c.find_by_id("", model, MpView(doc).get("_id").bytes());
  BOOST_TEST_REQUIRE(back.has_value(), "inserted but not found: " << js(doc));
  return *back;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(ints_stay_ints_in_every_encoding, OnSharedDaemon) {
  // (encoded bytes, value): fixint, negative fixint, uint8..uint64, int8..int64.
  const std::pair<std::string, int64_t> ints[] = {
      {enc("\x05"), 5},
      {enc("\xe0"), -32},
      {enc("\xcc\xc8"), 200},
      {enc("\xcd\x01\x00"), 256},
      {enc("\xce\x00\x01\x00\x00"), 65536},
      {enc("\xcf\x00\x00\x00\x01\x00\x00\x00\x00"), int64_t(1) << 32},
      {enc("\xd0\x05"), 5},
      {enc("\xd1\xff\x38"), -200},
      {enc("\xd2\xff\xff\x00\x00"), -65536},
      {enc("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), INT64_MIN},
      {enc("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"), INT64_MAX},
  };
  int64_t id = 0;
  for (auto& [bytes, value] : ints) {
    std::string doc = map_of({{"_id", std::string(1, char(++id))}, {"v", bytes}});
    std::string got_doc = round_trip(c, model, doc);
    MpView back(got_doc);
    BOOST_TEST_CONTEXT("sent " << js(doc) << ", got " << js(back)) {
      BOOST_TEST_REQUIRE(back.get("v").type() == MpType::Int);
      BOOST_TEST(back.get("v").as_int() == value);
    }
  }
  BOOST_TEST(c.count("", model, J(R"({"v":5})")) == 2);  // fixint 5 == int8 5
}

BOOST_FIXTURE_TEST_CASE(floats_stay_floats, OnSharedDaemon) {
  std::string f32("\xca\x3f\xc0\x00\x00", 5);  // 1.5 as float32
  const std::pair<std::string, double> floats[] = {
      {f32, 1.5},      {J("1.0"), 1.0},
      {J("0.1"), 0.1}, {J("-2.5e300"), -2.5e300},
      {J("0.0"), 0.0}, {J(R"({"$numberDouble":"Infinity"})"), INFINITY},
  };
  int64_t id = 0;
  for (auto& [bytes, value] : floats) {
    std::string doc = map_of({{"_id", std::string(1, char(++id))}, {"v", bytes}});
    std::string got_doc = round_trip(c, model, doc);
    MpView back(got_doc);
    BOOST_TEST_CONTEXT("sent " << js(doc) << ", got " << js(back)) {
      BOOST_TEST_REQUIRE(back.get("v").type() == MpType::Float);
      BOOST_TEST(back.get("v").as_double() == value);
    }
  }
  // Ints and floats compare by value.
  BOOST_TEST(c.count("", model, J(R"({"v":1})")) == 1);
  BOOST_TEST(c.count("", model, J(R"({"v":{"$gt":1,"$lt":2}})")) == 1);
}

BOOST_FIXTURE_TEST_CASE(strings_and_binaries_keep_their_bytes, OnSharedDaemon) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(char(i));
  std::string bin, str, longstr(70000, 'q'),
      unicode =
          "\xc3\xbc"
          "n"
          "\xc3\xaf"
          "c"
          "\xc3\xb8"
          "d"
          "\xc3\xa9"
          " \xf0\x9f\x90\x90";
  MpWriter(bin).bin(all_bytes);
  std::string doc;
  MpWriter w(doc);
  w.map_header(6);
  w.str("_id"), w.bin(std::string("\x00\xff", 2));
  w.str("bin"), w.bin(all_bytes);
  w.str("empty"), w.str("");
  w.str("uni"), w.str(unicode);
  w.str("long"), w.str(longstr);
  w.str("ebin"), w.bin("");
  std::string got_doc = round_trip(c, model, doc);
  MpView back(got_doc);
  BOOST_TEST(back.get("bin").type() == MpType::Bin);
  BOOST_TEST(back.get("bin").as_bin() == all_bytes);
  BOOST_TEST(back.get("empty").type() == MpType::Str);
  BOOST_TEST(back.get("uni").as_str() == unicode);
  BOOST_TEST(back.get("long").as_str() == longstr);
  BOOST_TEST(back.get("ebin").type() == MpType::Bin);
  BOOST_TEST(back.bytes() == doc);  // nothing to re-encode: byte for byte
  // A bin and a str with the same bytes are different values.
  std::string as_str;
  MpWriter(as_str).str(std::string("\x00\xff", 2));
  BOOST_TEST(!c.find_by_id("", model, as_str).has_value());
}

BOOST_FIXTURE_TEST_CASE(dates_in_all_three_encodings, OnSharedDaemon) {
  struct Case {
    std::string bytes;
    int64_t sec;
    uint32_t nsec;
  };
  const Case dates[] = {
      {ts32(1700000000), 1700000000, 0},
      {ts64(1700000000, 123000000), 1700000000, 123000000},
      {ts96(-86400 * 365, 500000000), -86400 * 365, 500000000},  // before 1970
      {ts96(32503680000, 7000000), 32503680000, 7000000},        // year 3000
  };
  int64_t id = 0;
  for (auto& d : dates) {
    std::string doc = map_of({{"_id", std::string(1, char(++id))}, {"d", d.bytes}});
    std::string got_doc = round_trip(c, model, doc);
    MpView back(got_doc);
    BOOST_TEST_CONTEXT("sent " << js(doc) << ", got " << js(back)) {
      BOOST_TEST_REQUIRE(back.get("d").type() == MpType::Date);
      Date got = back.get("d").as_date();
      BOOST_TEST(got.sec == d.sec);
      BOOST_TEST(got.nsec / 1000000 == d.nsec / 1000000);  // at least to the millisecond
    }
  }
  // One instant in the three encodings is one value: each finds the ts32 document.
  for (const std::string& same : {ts32(1700000000), ts64(1700000000, 0), ts96(1700000000, 0)}) {
    std::string filter = map_of({{"d", same}});
    auto found = c.find("", model, find_args(filter));
    BOOST_TEST_REQUIRE(found.size() == 1u, js(filter));
    BOOST_TEST(MpView(found[0]).get("_id").as_int() == 1);
  }
  std::string after = map_of({{"d", map_of({{"$gt", ts32(1700000000)}})}});
  BOOST_TEST(c.count("", model, after) == 2);
  // ts64 with nanoseconds >= 10^9 is not a date.
  std::string bad = map_of({{"_id", J("9")}, {"d", ts64(1, 1000000000)}});
  RawSocket raw(daemon.req_endpoint());
  std::string body = map_of({{"id", J("1")},
                             {"op", J(R"("insertOne")")},
                             {"model", J("\"" + model + "\"")},
                             {"doc", bad}});
  auto reply = raw.request(body, 5000);
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(js(MpView(*reply).get("error").get("code")) == "2", js(*reply));
}

BOOST_FIXTURE_TEST_CASE(nested_values_and_field_order, OnSharedDaemon) {
  std::string json =
      R"({"_id":"n","z":1,"a":{"y":[1,2.5,"s",null,true,{"q":[[],{}]}],"b":{}},"m":[[1,[2,[3]]]],)"
      R"("nil":null,"f":false,"A":{"$binary":"AAEC"},"d":{"$date":"2024-01-02T03:04:05.678Z"}})";
  std::string back = round_trip(c, model, J(json));
  BOOST_TEST(js(back) == canon(json));
  // Order survives an update that sets existing fields and appends a new one.
  c.update_one("", model, J(R"({"_id":"n"})"), J(R"({"$set":{"new":1,"z":2,"a.b.c":3}})"));
  BOOST_TEST(js(*c.find_by_id("", model, J(R"("n")"))) ==
             canon(R"({"_id":"n","z":2,"a":{"y":[1,2.5,"s",null,true,{"q":[[],{}]}],"b":{"c":3}},)"
                   R"("m":[[1,[2,[3]]]],"nil":null,"f":false,"A":{"$binary":"AAEC"},)"
                   R"("d":{"$date":"2024-01-02T03:04:05.678Z"},"new":1})"));
  // A map equality filter needs the same keys in the same order.
  BOOST_TEST(c.count("", model, J(R"({"a.b":{"c":3}})")) == 1);
  c.insert_one("", model, J(R"({"_id":"o","p":{"x":1,"y":2}})"));
  BOOST_TEST(c.count("", model, J(R"({"p":{"x":1,"y":2}})")) == 1);
  BOOST_TEST(c.count("", model, J(R"({"p":{"y":2,"x":1}})")) == 0);
}

BOOST_FIXTURE_TEST_CASE(sort_order_across_types, OnSharedDaemon) {
  // nil < numbers < strings < maps < arrays < bin < bool < dates; a missing field sorts as nil.
  const char* docs[] = {
      R"({"_id":1,"v":{"$date":"2024-01-01T00:00:00.000Z"}})",
      R"({"_id":2,"v":true})",
      R"({"_id":3,"v":{"$binary":"AQ=="}})",
      R"({"_id":5,"v":{"k":1}})",
      R"({"_id":6,"v":"a"})",
      R"({"_id":7,"v":2.5})",
      R"({"_id":8,"v":2})",
      R"({"_id":9,"v":null})",
      R"({"_id":10,"v":false})",
      R"({"_id":11,"v":"Z"})",
  };
  std::vector<std::string> encoded;
  for (auto* d : docs) encoded.push_back(J(d));
  c.insert_many("", model, encoded);
  auto order = [&](std::string_view sort) {
    std::string out;
    for (auto& d : c.find("", model, find_args(J("{}"), J(sort))))
      out += (out.empty() ? "" : ",") + js(MpView(d).get("_id"));
    return out;
  };
  // (Arrays are left out: MongoDB sorts an array by its smallest or largest element.)
  BOOST_TEST(order(R"({"v":1,"_id":1})") == "9,8,7,11,6,5,3,10,2,1");
  BOOST_TEST(order(R"({"v":-1,"_id":1})") == "1,2,10,3,5,6,11,7,8,9");
}
