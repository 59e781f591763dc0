// Documents: MessagePack validation and reading, values, MongoDB order, paths, Extended JSON,
// ObjectIds (CONTRACT.md §4).
#define BOOST_TEST_MODULE document
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <set>

#include "core/compare.h"
#include "core/ejson.h"
#include "core/msgpack.h"
#include "core/objectid.h"
#include "core/path.h"
#include "core/value.h"

using namespace mg;
using mg::mp_from_json;

static std::string J(const char* json) {
  return mp_from_json(json);
}

BOOST_AUTO_TEST_CASE(round_trips_every_type_through_ejson) {
  const char* json =
      R"({"_id":"x","n":null,"b":true,"i":-42,"big":9007199254740993,"f":1.5,"whole":2.0,)"
      R"("s":"h\u00e9\n","bin":{"$binary":"AAEC/w=="},"d":{"$date":"2024-02-29T12:34:56.789Z"},)"
      R"("a":[1,[2,{"x":3}]],"m":{"z":1,"a":2}})";
  std::string mp = J(json);
  BOOST_TEST(validate(mp).ok());
  MpView v(mp);
  BOOST_TEST(v.get("i").as_int() == -42);
  BOOST_TEST(v.get("big").as_int() == 9007199254740993LL);
  BOOST_TEST(int(v.get("whole").type()) == int(MpType::Float));
  BOOST_TEST(v.get("bin").as_bin() == std::string("\x00\x01\x02\xff", 4));
  BOOST_TEST(v.get("d").as_date().millis() == 1709210096789LL);
  // back to JSON and again: identical bytes (field order kept, floats stay floats)
  std::string again = J(json_from_mp(mp).c_str());
  BOOST_TEST(again == mp);
  // through Value too
  BOOST_TEST(Value::from(v).encode() == mp);
}

// Strings are escaped eight bytes at a time with a per-character fallback: every character
// JSON must escape, at every position of a word and across word boundaries, comes out escaped
// exactly once and reads back to the same bytes.
BOOST_AUTO_TEST_CASE(json_strings_escape_every_special_character_at_every_position) {
  const std::string specials[] = {"\"",   "\\",  "\n", "\r", "\t", "\b", "\f", std::string(1, '\0'),
                                  "\x01", "\x1f"};
  const std::string plain = "abcdefghijklmnopqrstuvwxyz\x7f\xc3\xa9 !#~";  // no escapes
  for (const std::string& sp : specials) {
    for (size_t pos = 0; pos <= 19; ++pos) {
      std::string str = plain.substr(0, pos) + sp + plain.substr(pos, 19 - pos) + sp;
      std::string mp;
      MpWriter w(mp);
      w.map_header(1), w.str("s"), w.str(str);
      std::string json = json_from_mp(mp);
      BOOST_TEST(json.find_first_of(std::string("\n\r\t\b\f\x01\x1f\0", 8)) == std::string::npos,
                 "raw control character in " << json);
      BOOST_TEST(MpView(J(json.c_str())).get("s").as_str() == str, "at " << pos << ": " << json);
    }
  }
  BOOST_TEST(json_from_mp(J(R"({"s":"a\"b\\c\u0001"})")) == R"({"s":"a\"b\\c\u0001"})");
}

BOOST_AUTO_TEST_CASE(validate_enforces_contract_limits) {
  // depth 101 is refused, 100 accepted
  std::string deep, ok;
  for (int i = 0; i < 100; ++i) ok += '\x91';
  ok += '\x01';
  std::string okdoc = std::string(
                          "\x81\xa1"
                          "a",
                          3) +
                      ok;  // map(1) -> depth 1 + 100 arrays
  BOOST_TEST(int(validate(okdoc).code) == int(ErrorCode::BadValue));
  std::string shallow = std::string(
                            "\x81\xa1"
                            "a",
                            3) +
                        ok.substr(1);
  BOOST_TEST(validate(shallow).ok());
  // extension other than -1 refused
  std::string ext = std::string(
      "\x81\xa1"
      "e\xd4\x05\x01",
      6);
  Status s = validate(ext);
  BOOST_TEST(int(s.code) == int(ErrorCode::BadValue));
  BOOST_TEST(s.message.find("extension type 5") != std::string::npos);
  // field names in document mode
  ValidateOptions dopts;
  dopts.document_names = true;
  BOOST_TEST(int(validate(J(R"({"$x":1})"), dopts).code) == int(ErrorCode::BadValue));
  Status named = validate(J(R"({"a":{"b.c":1}})"), dopts);
  BOOST_TEST(int(named.code) == int(ErrorCode::BadValue));
  BOOST_TEST(named.message == "field names must not contain '.': 'b.c' at 'a'");
  BOOST_TEST(validate(J(R"({"$x":1})"), dopts).message ==
             "field names must not start with '$': '$x'");
  BOOST_TEST(int(validate(J(R"({"":1})"), dopts).code) == int(ErrorCode::BadValue));
  BOOST_TEST(validate(J(R"({"a":{"b":1}})"), dopts).ok());
  // truncated, trailing, not a map
  std::string m = J(R"({"a":"hello"})");
  BOOST_TEST(int(validate(m.substr(0, m.size() - 1)).code) == int(ErrorCode::FailedToParse));
  BOOST_TEST(int(validate(m + "x").code) == int(ErrorCode::FailedToParse));
  BOOST_TEST(int(validate(J("[1]")).code) == int(ErrorCode::FailedToParse));
  // uint64 beyond int64
  std::string big = std::string(
      "\x81\xa1"
      "u\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
      12);
  BOOST_TEST(int(validate(big).code) == int(ErrorCode::BadValue));
  // size limit
  ValidateOptions small;
  small.max_bytes = 4;
  BOOST_TEST(int(validate(m, small).code) == int(ErrorCode::DocumentTooLarge));
  // a huge claimed array length with no elements is truncated, not a hang
  std::string liar = std::string(
      "\x81\xa1"
      "a\xdd\xff\xff\xff\xff",
      8);
  BOOST_TEST(int(validate(liar).code) == int(ErrorCode::FailedToParse));
}

BOOST_AUTO_TEST_CASE(all_three_timestamp_encodings_are_dates) {
  std::string d32 = std::string("\xd6\xff\x00\x00\x00\x10", 6);
  std::string d64, d96;
  MpWriter w64(d64), w96(d96);
  w64.date(Date{16, 5000000});
  w96.date(Date{-1, 0});
  BOOST_TEST(MpView(d32).as_date().sec == 16);
  BOOST_TEST(MpView(d64).as_date().nsec == 5000000u);
  BOOST_TEST(uint8_t(d96[0]) == 0xc7);
  BOOST_TEST(MpView(d96).as_date().sec == -1);
  for (auto* s : {&d32, &d64, &d96}) {
    std::string doc = std::string(
                          "\x81\xa1"
                          "d",
                          3) +
                      *s;
    BOOST_TEST(validate(doc).ok());
    BOOST_TEST(int(MpView(doc).get("d").type()) == int(MpType::Date));
  }
}

// A timestamp holds any int64 of seconds, but every backend stores a date as int64
// milliseconds: at the limits millis() saturates (it overflowed before: UBSan), validate()
// refuses a date beyond them, and the last representable dates round-trip.
BOOST_AUTO_TEST_CASE(extreme_dates_saturate_and_are_refused_beyond_int64_millis) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  BOOST_TEST((Date{kMax, 0}.millis()) == kMax);
  BOOST_TEST((Date{kMin, 0}.millis()) == kMin);
  BOOST_TEST(!(Date{kMax, 0}.fits_millis()));
  Date last = Date::from_millis(kMax);  // 9223372036854775 s + 807 ms
  Date first = Date::from_millis(kMin);
  BOOST_TEST(last.sec == kMax / 1000);
  BOOST_TEST(last.millis() == kMax);
  BOOST_TEST(first.millis() == kMin);
  BOOST_TEST(first.fits_millis());
  BOOST_TEST(!(Date{kMax / 1000, 808000000}.fits_millis()));  // one millisecond past the end
  BOOST_TEST((Date{kMax / 1000, 808000000}.millis()) == kMax);
  BOOST_TEST(!(Date{kMin / 1000 - 1, 0}.fits_millis()));
  BOOST_TEST((Date{kMin / 1000 - 1, 0}.millis()) == kMin);

  auto doc_with = [](Date d) {
    std::string doc;
    MpWriter w(doc);
    w.map_header(1);
    w.str("d");
    w.date(d);
    return doc;
  };
  for (Date d : {Date{kMax, 0}, Date{kMin, 0}, Date{kMax / 1000, 808000000}}) {
    Status s = validate(doc_with(d));
    BOOST_TEST(int(s.code) == int(ErrorCode::BadValue));
    BOOST_TEST(s.message.find("date out of range") != std::string::npos, s.message);
  }
  for (Date d : {last, first}) {
    std::string doc = doc_with(d);
    BOOST_TEST(validate(doc).ok());
    // through Extended JSON (how the file backend stores it) and back: the same date
    std::string again = J(json_from_mp(doc).c_str());
    BOOST_TEST(MpView(again).get("d").as_date().millis() == d.millis());
  }
}

BOOST_AUTO_TEST_CASE(mongo_comparison_order) {
  // nil < numbers < strings < maps < arrays < bin < bool < dates
  std::vector<std::string> ordered = {
      J("null"),       J("-1"),     J("0.5"),
      J("1"),          J(R"("a")"), J(R"("b")"),
      J(R"({"a":1})"), J("[1]"),    J(R"({"$binary":"AA=="})"),
      J("false"),      J("true"),   J(R"({"$date":"2020-01-01T00:00:00Z"})")};
  for (size_t i = 0; i < ordered.size(); ++i)
    for (size_t j = 0; j < ordered.size(); ++j) {
      int c = compare_values(MpView(ordered[i]), MpView(ordered[j]));
      BOOST_TEST((i < j ? c < 0 : (i == j ? c == 0 : c > 0)), "pair " << i << "," << j);
    }
  BOOST_TEST(compare_values(MpView(J("5")), MpView(J("5.0"))) == 0);
  BOOST_TEST(compare_values(MpView(J("9007199254740993")), MpView(J("9007199254740992.0"))) > 0);
  BOOST_TEST(compare_values(MpView(J("[1,2]")), MpView(J("[1]"))) > 0);
}

BOOST_AUTO_TEST_CASE(paths_reach_into_maps_and_arrays) {
  std::string doc = J(R"({"a":{"b":[{"c":1},{"c":2},{"d":3}]},"tags":["x","y"]})");
  MpView v(doc);
  std::vector<std::string> seen;
  int missing = 0;
  visit_path(v, FieldPath::parse("a.b.c"), 0, [&](MpView x) {
    if (!x.valid())
      ++missing;
    else
      seen.push_back(json_from_mp(x.bytes()));
    return false;
  });
  BOOST_TEST(seen.size() == 2u);
  BOOST_TEST(missing == 1);
  BOOST_TEST(get_path(v, FieldPath::parse("tags.1")).as_str() == "y");
  BOOST_TEST(!get_path(v, FieldPath::parse("tags.2")).valid());
  BOOST_TEST(get_path(v, FieldPath::parse("a.b.0.c")).as_int() == 1);
  BOOST_CHECK_THROW(FieldPath::parse("a..b"), Error);
}

BOOST_AUTO_TEST_CASE(object_ids_are_24_lowercase_hex_and_unique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_object_id();
    BOOST_TEST(id.size() == 24u);
    BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    ids.insert(id);
  }
  BOOST_TEST(ids.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(bad_json_is_failed_to_parse) {
  std::string out;
  BOOST_TEST(int(ejson_to_msgpack("{\"a\":", out).code) == int(ErrorCode::FailedToParse));
  BOOST_TEST(int(ejson_to_msgpack("{} x", out).code) == int(ErrorCode::FailedToParse));
  BOOST_TEST(int(ejson_to_msgpack(R"({"$date":"nope"})", out).code) == int(ErrorCode::BadValue));
  std::string deep(5000, '[');
  BOOST_TEST(!ejson_to_msgpack(deep, out).ok());
}

// Numbers are converted by the engine, not RapidJSON's full-precision strtod (which read out of
// bounds on long mantissas with large exponents): exact doubles, ints that fit int64, zero on
// underflow, FailedToParse on overflow.
BOOST_AUTO_TEST_CASE(json_numbers_convert_exactly_and_safely) {
  auto one = [](const std::string& number) {
    std::string out;
    Status s = ejson_to_msgpack(R"({"n":)" + number + "}", out);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
    return std::string(MpView(out).get("n").bytes());
  };
  std::string b = one("-9223372036854775808");
  BOOST_TEST((MpView(b).type() == MpType::Int));
  BOOST_TEST(MpView(b).as_int() == INT64_MIN);
  b = one("9223372036854775808");  // past int64: the nearest double
  BOOST_TEST((MpView(b).type() == MpType::Float));
  BOOST_TEST(MpView(b).as_double() == 9223372036854775808.0);
  b = one("0.1");
  BOOST_TEST(MpView(b).as_double() == 0.1);
  b = one("2.2250738585072014e-308");
  BOOST_TEST(MpView(b).as_double() == 2.2250738585072014e-308);
  b = one("1.5e-999");
  BOOST_TEST(MpView(b).as_double() == 0.0);
  b = one("99999999999999999999999.99888888888888888888888888888888888888888888888888e-446");
  BOOST_TEST(MpView(b).as_double() == 0.0);
  b = one("99999999999999999999999.99888888888888888888888888888888888888888888888888");
  BOOST_TEST(MpView(b).as_double() == 1e23);
  std::string out;
  Status big = ejson_to_msgpack(R"({"n":1e400})", out);
  BOOST_TEST(int(big.code) == int(ErrorCode::FailedToParse));
  BOOST_TEST(big.message.find("too big") != std::string::npos);
}

// validate() takes a fast path for flat documents (fixstr keys, scalar values): it must agree
// with the full validator (validate_prefix_full, which has no fast path) on every document,
// whatever the damage — each byte changed to a few chosen values, every truncation, trailing bytes
// — with and without the field-name rules, and give the full validator's message.
BOOST_AUTO_TEST_CASE(validate_fast_path_agrees_with_the_full_validator) {
  std::string doc;
  {
    MpWriter w(doc);
    w.map_header(9);
    w.str("email"), w.str("user12345@example.com");
    w.str("name"), w.str(std::string(40, 'n'));  // str8
    w.str("age"), w.integer(42);
    w.str("big"), w.integer(int64_t(1) << 40);
    w.str("score"), w.float64(12.5);
    w.str("active"), w.boolean(true);
    w.str("nothing"), w.nil();
    w.str("createdAt"), w.date(Date::from_millis(1700000000123));
    w.str("old"), w.date(Date{int64_t(1) << 33, 5});  // the 8-byte timestamp form
  }
  auto hex = [](const std::string& b) {
    std::string h;
    for (unsigned char c : b) h += "0123456789abcdef"[c >> 4], h += "0123456789abcdef"[c & 15];
    return h;
  };
  auto full = [](std::string_view b, const ValidateOptions& o) {
    size_t used = 0;
    Status s = validate_prefix_full(b, o, used);
    if (s.ok() && used != b.size())
      return make_status(ErrorCode::FailedToParse, "trailing bytes after the MessagePack value");
    return s;
  };
  ValidateOptions names, plain;
  names.document_names = true;
  plain.document_names = false;
  size_t checked = 0, accepted = 0;
  auto check = [&](const std::string& b) {
    for (const ValidateOptions* o : {&names, &plain}) {
      Status fast = validate(b, *o), slow = full(b, *o);
      BOOST_TEST(fast.ok() == slow.ok(), hex(b) << ": " << fast.message << " / " << slow.message);
      if (!fast.ok() && !slow.ok()) BOOST_TEST(fast.message == slow.message);
      ++checked;
      accepted += fast.ok();
      // As the first of several documents (insertMany slices its batch with validate_prefix,
      // which has the fast path too): the same verdict, message and length.
      std::string batch = b + doc;
      size_t used_fast = 0, used_full = 0;
      Status pf = validate_prefix(batch, *o, used_fast),
             pl = validate_prefix_full(batch, *o, used_full);
      BOOST_TEST(pf.ok() == pl.ok(), hex(b) << ": " << pf.message << " / " << pl.message);
      if (pf.ok() && pl.ok()) BOOST_TEST(used_fast == used_full, hex(b));
      if (!pf.ok() && !pl.ok()) BOOST_TEST(pf.message == pl.message);
    }
  };
  check(doc);
  const uint8_t bytes[] = {0x00, 0x01, 0x24, 0x2e, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xbf, 0xc0,
                           0xc1, 0xc4, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd6, 0xd7, 0xd8,
                           0xd9, 0xda, 0xdb, 0xdc, 0xde, 0xdf, 0xe0, 0xfe, 0xff};
  for (size_t i = 0; i < doc.size(); ++i)
    for (uint8_t b : bytes) {
      std::string d = doc;
      d[i] = char(b);
      check(d);
    }
  for (size_t n = 0; n < doc.size(); ++n) check(doc.substr(0, n));
  check(doc + '\xc0');
  BOOST_TEST(checked > 10000u);
  BOOST_TEST(accepted > 1000u);  // many damaged documents are still valid ones
}

// The inline byte comparisons (word loads, overlapping at the end) agree with memcmp for every
// length up to 40 and a difference at every place, either way round, and with unequal lengths.
BOOST_AUTO_TEST_CASE(short_byte_comparisons_agree_with_memcmp) {
  auto sign = [](int c) { return (c > 0) - (c < 0); };
  for (size_t len = 0; len <= 40; ++len) {
    std::string a(len, 'x');
    for (size_t i = 0; i < len; ++i) a[i] = char(0x41 + i);
    auto* pa = reinterpret_cast<const uint8_t*>(a.data());
    BOOST_TEST(bytes_equal(a.data(), std::string(a).data(), len));
    BOOST_TEST(compare_short_bytes(pa, len, pa, len) == 0);
    for (size_t at = 0; at < len; ++at)
      for (int delta : {-0x41, -1, 1, 0x80}) {
        std::string b = a;
        b[at] = char(uint8_t(b[at]) + delta);
        auto* pb = reinterpret_cast<const uint8_t*>(b.data());
        int want = sign(std::memcmp(a.data(), b.data(), len));
        BOOST_TEST(!bytes_equal(a.data(), b.data(), len), len << " " << at);
        BOOST_TEST(compare_short_bytes(pa, len, pb, len) == want, len << " " << at);
        BOOST_TEST(compare_short_bytes(pb, len, pa, len) == -want, len << " " << at);
      }
    for (size_t shorter = 0; shorter < len; ++shorter) {  // a proper prefix sorts first
      BOOST_TEST(compare_short_bytes(pa, shorter, pa, len) == -1);
      BOOST_TEST(compare_short_bytes(pa, len, pa, shorter) == 1);
    }
  }
}
