// The order-preserving index key encoding (core/index_key.h) agrees with compare_values on
// every pair of a wide set of values — across types, negative numbers, ints against doubles
// (beyond 2^53 too), -0.0, NaN, strings with NUL bytes, long strings, nested arrays and maps,
// binaries, dates — in both directions; its 8-byte prefixes never contradict it; and indexes
// built on it (compound, descending, unique and not) scan, range-scan and sort as MongoDB
// orders values.
#define BOOST_TEST_MODULE index_key
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>

#include "core/collection.h"
#include "core/compare.h"
#include "core/ejson.h"
#include "core/index.h"
#include "core/index_key.h"
#include "storage/memory_storage.h"

using namespace mg;

namespace {

std::string J(const char* json) {
  return mp_from_json(json);
}

std::string I(int64_t v) {
  std::string s;
  MpWriter(s).integer(v);
  return s;
}
std::string D(double v) {
  std::string s;
  MpWriter(s).float64(v);
  return s;
}
std::string F32(float v) {  // a float 32, which MpWriter never writes
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  std::string s(1, char(0xca));
  for (int i = 3; i >= 0; --i) s.push_back(char(bits >> (8 * i)));
  return s;
}
std::string S(std::string_view v) {
  std::string s;
  MpWriter(s).str(v);
  return s;
}
std::string B(std::string_view v) {
  std::string s;
  MpWriter(s).bin(v);
  return s;
}
std::string T(int64_t sec, uint32_t nsec) {
  std::string s;
  MpWriter(s).date(Date{sec, nsec});
  return s;
}

// A short string in the str8 form (a writer would use a fixstr): compares as the same string.
std::string S8(std::string_view v) {
  std::string s = {char(0xd9), char(v.size())};
  return s + std::string(v);
}

std::string enc(const std::string& v, bool desc) {
  std::string out;
  append_index_key(MpView(v), desc, out);
  return out;
}

int sign(int c) {
  return (c > 0) - (c < 0);
}

int bytes_order(const std::string& a, const std::string& b) {
  return sign(a.compare(b));
}

std::vector<std::string> sample_values() {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int64_t big = int64_t(1) << 53;
  std::vector<std::string> v = {
      J("null"),
      D(nan),
      D(-nan),
      D(-inf),
      D(-1e300),
      I(INT64_MIN),
      I(INT64_MIN + 1),
      D(-9223372036854775808.0),
      D(-9.3e18),
      I(-big - 1),
      D(double(-big)),
      I(-big),
      I(-big + 1),
      D(-2.5),
      I(-2),
      I(-1),
      D(-1.0),
      D(-0.5),
      D(-1e-300),
      D(-0.0),
      I(0),
      D(0.0),
      D(1e-300),
      F32(0.5f),
      D(0.5),
      I(1),
      D(1.0),
      F32(1.0f),
      D(1.5),
      I(127),
      I(128),
      I(255),
      I(256),
      I(65535),
      I(65536),
      I(big - 1),
      I(big),
      D(double(big)),
      I(big + 1),
      D(double(big) + 2),
      I(big + 2),
      I(big + 3),
      I((int64_t(1) << 62) + 1),
      I((int64_t(1) << 62) - 1),
      D(4611686018427387904.0),
      I(INT64_MAX - 1),
      I(INT64_MAX),
      D(9223372036854775808.0),
      D(9.3e18),
      D(1e300),
      D(inf),
      S(""),
      S(std::string("\0", 1)),
      S(std::string("\0\0", 2)),
      S(std::string("\0\x01", 2)),
      S(std::string("\x01", 1)),
      S("a"),
      S8("a"),
      S(std::string("a\0", 2)),
      S(std::string("a\0b", 3)),
      S(std::string("a\0\xff", 3)),
      S("a\x01"),
      S("a\xff"),
      S("ab"),
      S("abcdefg"),
      S("abcdefgh"),
      S("abcdefgh\x01"),
      S(std::string("abcdef\0", 7)),
      S(std::string("abcdefg\0", 8)),
      S("abcdefghij"),
      S(std::string("abcdefghij\0", 11)),
      S("abcdefghijk"),
      S("abcdefghijk\x01"),
      S(std::string("abcdefghijk\0", 12)),
      S("abcdefghijl"),
      S("b"),
      S("user1@example.com"),
      S("user10@example.com"),
      S("user2@example.com"),
      S(std::string(40, 'x')),
      S(std::string(300, 'x')),
      S(std::string(300, 'x') + "y"),
      S(std::string(70000, 'x')),
      S("\xc3\xa9"),
      J("{}"),
      J(R"({"a":null})"),
      J(R"({"a":1})"),
      J(R"({"a":1,"b":1})"),
      J(R"({"a":2})"),
      J(R"({"b":1})"),
      J(R"({"a":"x"})"),
      J(R"({"a":{"b":1}})"),
      J(R"({"a":[1]})"),
      J(R"({"a":true})"),
      J("[]"),
      J("[null]"),
      J("[1]"),
      J("[1.0,2]"),
      J("[1,2]"),
      J("[1,2,3]"),
      J("[2]"),
      J(R"(["a"])"),
      J("[[]]"),
      J("[[1]]"),
      J("[{}]"),
      B(""),
      B(std::string("\0", 1)),
      B("\xff"),
      B("ab"),
      B(std::string("\0\0\0", 3)),
      J("false"),
      J("true"),
      T(-5000000000, 0),
      T(-1, 999000000),
      T(0, 0),
      T(0, 1000000),
      T(1700000000, 0),
      T(1700000000, 5000000),
      T(17000000000, 0),
  };
  return v;
}

}  // namespace

// Every pair: the encodings order as compare_values does (equal exactly when equal), and the
// descending encodings the other way round.
BOOST_AUTO_TEST_CASE(encoding_orders_every_pair_as_compare_values) {
  auto vals = sample_values();
  std::vector<std::string> asc, desc;
  for (auto& v : vals) asc.push_back(enc(v, false)), desc.push_back(enc(v, true));
  size_t checked = 0;
  for (size_t i = 0; i < vals.size(); ++i)
    for (size_t j = 0; j < vals.size(); ++j) {
      int want = sign(compare_values(MpView(vals[i]), MpView(vals[j])));
      BOOST_TEST(bytes_order(asc[i], asc[j]) == want,
                 "asc " << json_from_mp(vals[i]) << " vs " << json_from_mp(vals[j]));
      BOOST_TEST(bytes_order(desc[i], desc[j]) == -want,
                 "desc " << json_from_mp(vals[i]) << " vs " << json_from_mp(vals[j]));
      ++checked;
    }
  BOOST_TEST(checked > 10000u);
}

// The values the contract names equal encode to the same bytes.
BOOST_AUTO_TEST_CASE(equal_values_encode_alike) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(enc(I(1), false) == enc(D(1.0), false));
  BOOST_TEST(enc(I(1), false) == enc(F32(1.0f), false));
  BOOST_TEST(enc(I(0), false) == enc(D(-0.0), false));
  BOOST_TEST(enc(D(0.0), true) == enc(D(-0.0), true));
  BOOST_TEST(enc(D(nan), false) == enc(D(-nan), false));
  BOOST_TEST(enc(I(int64_t(1) << 60), false) == enc(D(std::ldexp(1.0, 60)), false));
  BOOST_TEST(enc(I((int64_t(1) << 60) + 1), false) != enc(D(std::ldexp(1.0, 60)), false));
  BOOST_TEST(enc(S("a"), false) == enc(S8("a"), false));
  BOOST_TEST(enc(J("[1,2]"), false) == enc(J("[1.0,2.0]"), false));
  BOOST_TEST(enc(J(R"({"a":1})"), false) == enc(J(R"({"a":1.0})"), false));
}

// Strings of every short length, with a NUL at each place or none, encode as the layout says
// (the word-at-a-time paths for 4-7 and 8+ bytes miss no NUL), in both directions.
BOOST_AUTO_TEST_CASE(strings_escape_every_nul) {
  for (size_t len = 0; len <= 40; ++len)
    for (size_t nul = 0; nul <= len; ++nul) {  // nul == len: no NUL
      std::string raw(len, 'q');
      for (size_t i = 0; i < len; ++i) raw[i] = char('a' + i % 26);
      if (nul < len) raw[nul] = '\0';
      std::string want(1, char(0x30));
      for (char c : raw) want += c == '\0' ? std::string("\0\xff", 2) : std::string(1, c);
      want += std::string("\0\0", 2);
      BOOST_TEST(enc(S(raw), false) == want, len << " " << nul);
      std::string inv = want;
      for (char& c : inv) c = char(~uint8_t(c));
      BOOST_TEST(enc(S(raw), true) == inv, len << " " << nul);
    }
}

// Prefixes never contradict the order: of the encoding bytes, and of a value directly (the
// fast paths for strings and numbers agree with the general one).
BOOST_AUTO_TEST_CASE(prefixes_are_monotone) {
  auto vals = sample_values();
  for (bool desc : {false, true}) {
    for (size_t i = 0; i < vals.size(); ++i)
      for (size_t j = 0; j < vals.size(); ++j) {
        int want = sign(compare_values(MpView(vals[i]), MpView(vals[j]))) * (desc ? -1 : 1);
        KeyPrefix ei = index_key_prefix(enc(vals[i], desc)),
                  ej = index_key_prefix(enc(vals[j], desc));
        KeyPrefix vi = index_key_prefix(MpView(vals[i]), desc),
                  vj = index_key_prefix(MpView(vals[j]), desc);
        if (int c = compare(ei, ej)) BOOST_TEST(c == want, i << " " << j << " desc " << desc);
        if (int c = compare(vi, vj)) BOOST_TEST(c == want, i << " " << j << " desc " << desc);
        if (want == 0) BOOST_TEST((ei == ej && vi == vj));
      }
    // The direct prefix is the ascending encoding's, complemented for descending.
    for (auto& v : vals) {
      KeyPrefix a = index_key_prefix(enc(v, false));
      KeyPrefix want = desc ? KeyPrefix{~a.hi, ~a.lo} : a;
      BOOST_TEST((index_key_prefix(MpView(v), desc) == want), json_from_mp(v));
    }
  }
}

// Type-bracket edges sit between the ranks: after every value of lower rank, before every value
// of the rank (side -1), or after it and before every higher rank (side +1).
BOOST_AUTO_TEST_CASE(type_edges_bracket_each_rank) {
  auto vals = sample_values();
  for (int rank = 0; rank <= 7; ++rank)
    for (bool desc : {false, true}) {
      std::string lo, hi;
      append_type_edge(rank, -1, desc, lo);
      append_type_edge(rank, 1, desc, hi);
      for (auto& v : vals) {
        int r = type_rank(MpView(v).type());
        int dir = desc ? -1 : 1;
        std::string e = enc(v, desc);
        BOOST_TEST(bytes_order(e, lo) == (r < rank ? -dir : dir));
        BOOST_TEST(bytes_order(e, hi) == (r <= rank ? -dir : dir));
        BOOST_TEST(e.compare(0, 1, lo) != 0);  // an edge is a prefix of no value
        BOOST_TEST(e.compare(0, 1, hi) != 0);
      }
    }
}

namespace {

// An index over `spec_json`'s fields holding `docs` (slot = position), for scanning.
struct IndexOver {
  std::vector<std::string> docs;
  std::unique_ptr<Index> ix;
  IndexOver(const char* schema_json, size_t which, const std::vector<std::string>& d) : docs(d) {
    std::string schema = J(schema_json);
    auto parsed = Schema::parse(MpView(schema));
    ix = std::make_unique<Index>(parsed->indexes().at(which));
    IndexKeys keys;
    for (size_t i = 0; i < docs.size(); ++i) {
      ix->keys_of(MpView(docs[i]), keys);
      ix->insert(keys, uint32_t(i));
    }
  }
  std::vector<uint32_t> scan(const IndexBounds& b, bool reverse = false) const {
    std::vector<uint32_t> out;
    ix->scan(b, reverse, [&](uint32_t s) {
      out.push_back(s);
      return true;
    });
    return out;
  }
};

// Documents {a, b} for every pair of a few mixed values.
std::vector<std::string> pair_docs() {
  std::vector<std::string> a = {J("null"), I(-3),  D(-0.0),
                                I(0),      D(2.5), I(int64_t(1) << 54),
                                S(""),     S("x"), S(std::string("x\0y", 3)),
                                J("true"), T(5, 0)};
  std::vector<std::string> out;
  for (auto& x : a)
    for (auto& y : a) {
      std::string d;
      MpWriter w(d);
      w.map_header(2);
      w.str("a"), w.raw(x);
      w.str("b"), w.raw(y);
      out.push_back(d);
    }
  return out;
}

// The expected order of the slots of `docs` by (a asc, b in `bdir`), then slot.
std::vector<uint32_t> expected_order(const std::vector<std::string>& docs, int bdir) {
  std::vector<uint32_t> slots(docs.size());
  for (uint32_t i = 0; i < slots.size(); ++i) slots[i] = i;
  std::stable_sort(slots.begin(), slots.end(), [&](uint32_t x, uint32_t y) {
    MpView dx(docs[x]), dy(docs[y]);
    if (int c = compare_values(dx.get("a"), dy.get("a"))) return c < 0;
    return bdir * compare_values(dx.get("b"), dy.get("b")) < 0;
  });
  return slots;
}

}  // namespace

// A compound index with a descending field, unique or not, scans in (a asc, b desc) order,
// forwards and backwards, and its range scans visit exactly the matching entries in order.
BOOST_AUTO_TEST_CASE(compound_descending_index_scans_in_order) {
  auto docs = pair_docs();
  const char* schemas[] = {R"({"indexes":[{"fields":{"a":1,"b":-1}}]})",
                           R"({"indexes":[{"fields":{"a":1,"b":-1},"unique":true}]})"};
  for (const char* schema : schemas) {
    IndexOver ix(schema, 0, docs);
    BOOST_TEST(ix.ix->encoded());
    auto want = expected_order(docs, -1);
    BOOST_TEST(ix.scan(IndexBounds{}) == want);
    auto back = ix.scan(IndexBounds{}, true);
    std::reverse(back.begin(), back.end());
    BOOST_TEST(back == want);
    // a == 0 (0 and -0.0 alike), b in each type's bracket with open and closed ends.
    std::string zero = I(0), lo = I(-3), hi = D(2.5), neg_zero = D(-0.0);
    for (bool lower_incl : {false, true})
      for (bool upper_incl : {false, true}) {
        IndexBounds b;
        b.eq.push_back(MpView(zero));
        b.has_range = true;
        b.range_rank = 1;
        b.lower = RangeEnd{MpView(lo), lower_incl};
        b.upper = RangeEnd{MpView(hi), upper_incl};
        std::vector<uint32_t> expect;
        for (uint32_t s : want) {
          MpView d(docs[s]);
          MpView a = d.get("a"), v = d.get("b");
          if (compare_values(a, MpView(zero)) != 0 || !v.is_number()) continue;
          int cl = compare_values(v, MpView(lo)), cu = compare_values(v, MpView(hi));
          if ((lower_incl ? cl >= 0 : cl > 0) && (upper_incl ? cu <= 0 : cu < 0))
            expect.push_back(s);
        }
        BOOST_TEST(ix.scan(b) == expect);
        BOOST_TEST(ix.ix->count(b) == expect.size());
        auto rev = ix.scan(b, true);
        std::reverse(rev.begin(), rev.end());
        BOOST_TEST(rev == expect);
      }
    // Open ends stay inside the bracket: {b: {$gt: -0.0}} with a == "x" is the numbers above 0.
    std::string x = S("x");
    IndexBounds b;
    b.eq.push_back(MpView(x));
    b.has_range = true;
    b.range_rank = 1;
    b.lower = RangeEnd{MpView(neg_zero), false};
    std::vector<uint32_t> expect;
    for (uint32_t s : want) {
      MpView d(docs[s]);
      if (compare_values(d.get("a"), MpView(x)) == 0 && d.get("b").is_number() &&
          compare_values(d.get("b"), MpView(neg_zero)) > 0)
        expect.push_back(s);
    }
    BOOST_TEST(expect.size() == 2u);  // 2.5 and 2^54
    BOOST_TEST(ix.scan(b) == expect);
    // An equality prefix alone: every b of a == "x\0y" (and none of "x").
    std::string xy = S(std::string("x\0y", 3));
    IndexBounds e;
    e.eq.push_back(MpView(xy));
    auto got = ix.scan(e);
    BOOST_TEST(got.size() == 11u);
    for (uint32_t s : got) BOOST_TEST(compare_values(MpView(docs[s]).get("a"), MpView(xy)) == 0);
  }
}

// A single-field descending index, unique (document values with prefixes) and not (encoded):
// the same order, and point lookups find 1 by 1.0.
BOOST_AUTO_TEST_CASE(single_field_indexes_order_and_find_alike) {
  auto vals = sample_values();
  std::vector<std::string> docs;
  for (auto& v : vals) {
    bool dup = false;
    for (auto& d : docs) dup = dup || compare_values(MpView(d).get("a"), MpView(v)) == 0;
    if (dup || MpView(v).type() == MpType::Array) continue;  // unique, not multikey
    std::string d;
    MpWriter w(d);
    w.map_header(1);
    w.str("a"), w.raw(v);
    docs.push_back(d);
  }
  std::vector<uint32_t> want(docs.size());
  for (uint32_t i = 0; i < want.size(); ++i) want[i] = i;
  std::stable_sort(want.begin(), want.end(), [&](uint32_t x, uint32_t y) {
    return compare_values(MpView(docs[x]).get("a"), MpView(docs[y]).get("a")) > 0;
  });
  IndexOver uniq(R"({"indexes":[{"fields":{"a":-1},"unique":true}]})", 0, docs);
  IndexOver plain(R"({"indexes":[{"fields":{"a":-1}}]})", 0, docs);
  BOOST_TEST(!uniq.ix->encoded());
  BOOST_TEST(plain.ix->encoded());
  BOOST_TEST(uniq.scan(IndexBounds{}) == want);
  BOOST_TEST(plain.scan(IndexBounds{}) == want);
  std::string one = D(1.0);
  uint32_t slot = uniq.ix->lookup_unique(MpView(one).data());
  BOOST_REQUIRE(slot != UINT32_MAX);
  BOOST_TEST(compare_values(MpView(docs[slot]).get("a"), MpView(one)) == 0);
  IndexBounds b;
  b.eq.push_back(MpView(one));
  BOOST_TEST(plain.scan(b) == std::vector<uint32_t>{slot});
}

// Through a collection: a sort by an indexed compound key, range queries answered by the index,
// and insert/update/delete keep the index in step with a collection scan's answers.
BOOST_AUTO_TEST_CASE(collection_queries_by_encoded_indexes_match_a_scan) {
  std::string schema = J(R"({"fields":{"email":{"type":"string","unique":true}},
    "indexes":[{"fields":{"city":1,"age":-1}},{"fields":{"score":1}}]})");
  Collection indexed("I", make_memory_storage()), bare("B", make_memory_storage());
  BOOST_REQUIRE(indexed.open(MpView(schema)).ok());
  BOOST_REQUIRE(bare.open(MpView()).ok());
  std::mt19937_64 rng(7);
  const char* cities[] = {"Oslo", "Rome", "Paris", ""};
  std::vector<std::string> docs;
  for (int i = 0; i < 600; ++i) {
    std::string d;
    MpWriter w(d);
    w.map_header(5);
    w.str("_id"), w.integer(i);
    w.str("email"), w.str("u" + std::to_string(i) + "@x");
    w.str("city"), w.str(cities[rng() % 4]);
    w.str("age");
    if (rng() % 5 == 0)
      w.float64(double(rng() % 50) + 0.5);
    else
      w.integer(int64_t(rng() % 50) - 10);
    w.str("score");
    if (rng() % 7 == 0)
      w.str("n/a");
    else
      w.float64(double(int64_t(rng() % 200) - 100) / 4);
    docs.push_back(d);
  }
  std::vector<std::string_view> views(docs.begin(), docs.end());
  BOOST_REQUIRE(indexed.insert_many(views, nullptr).ok());
  BOOST_REQUIRE(bare.insert_many(views, nullptr).ok());
  std::string upd = J(R"({"$inc":{"age":3}})"), upd_f = J(R"({"city":"Rome","age":{"$lt":5}})");
  std::string del_f = J(R"({"score":{"$gte":10,"$lt":15}})");
  for (Collection* c : {&indexed, &bare}) {
    BOOST_REQUIRE(c->update(MpView(upd_f), MpView(upd), false, true, nullptr).ok());
    BOOST_REQUIRE(c->remove(MpView(del_f), true, nullptr).ok());
  }
  auto ids = [](Collection& c, const std::string& filter, const std::string& sort, QueryStats* st) {
    auto r = c.find(FindSpec{MpView(filter), MpView(sort), 0, 0}, st);
    BOOST_REQUIRE(r.ok());
    std::vector<std::string> out;
    for (auto& d : r.value()) out.push_back(json_from_mp(d.view().get("_id").bytes()));
    return out;
  };
  const char* queries[][2] = {
      {R"({"city":"Oslo"})", R"({"age":-1,"_id":1})"},
      {R"({"city":"Rome","age":{"$gte":0,"$lt":20.5}})", R"({"age":1,"_id":1})"},
      {R"({"city":"Paris","age":{"$gt":-0.0}})", R"({"_id":1})"},
      {R"({"city":"","age":{"$lte":7}})", R"({"_id":-1})"},
      {R"({"score":{"$gt":-5.5,"$lte":12}})", R"({"score":1,"_id":1})"},
      {R"({"score":{"$gte":"m"}})", R"({"_id":1})"},
      {R"({"score":{"$lt":0}})", R"({"score":-1,"_id":1})"},
      {R"({"city":{"$in":["Oslo","Paris"]},"age":3})", R"({"_id":1})"},
  };
  for (auto& q : queries) {
    std::string f = J(q[0]), s = J(q[1]);
    QueryStats st;
    auto got = ids(indexed, f, s, &st);
    BOOST_TEST(st.plan.find("IXSCAN") != std::string::npos, q[0] << ": " << st.plan);
    BOOST_TEST(got == ids(bare, f, s, nullptr), q[0]);
    BOOST_TEST(!got.empty(), q[0]);
  }
}

// A random walk of inserts and erases on indexes over mixed values — arrays (multikey, an
// empty one included), nested values, missing fields, ints and doubles that are equal — with
// ascending and descending, single and compound, unique and not: after every step a full scan,
// forwards and backwards, visits exactly the entries a model computes with compare_values.
BOOST_AUTO_TEST_CASE(random_inserts_and_erases_keep_every_index_in_order) {
  std::vector<std::string> pool = {J("null"),
                                   I(-1),
                                   D(-1.0),
                                   I(0),
                                   D(-0.0),
                                   D(0.5),
                                   I(int64_t(1) << 60),
                                   D(std::ldexp(1.0, 60)),
                                   S(""),
                                   S("a"),
                                   S(std::string("a\0", 2)),
                                   S("ab"),
                                   J("[]"),
                                   J("[1,\"a\"]"),
                                   J("[[2]]"),
                                   J(R"({"k":1})"),
                                   J("true"),
                                   T(3, 0),
                                   B("x")};
  const char* schemas[] = {R"({"indexes":[{"fields":{"a":1}}]})",
                           R"({"indexes":[{"fields":{"a":-1}}]})",
                           R"({"indexes":[{"fields":{"a":1,"b":-1}}]})",
                           R"({"indexes":[{"fields":{"b":-1,"a":1}}]})",
                           R"({"indexes":[{"fields":{"a":-1,"b":-1},"unique":true}]})",
                           R"({"indexes":[{"fields":{"a":1},"unique":true}]})"};
  for (const char* schema_json : schemas) {
    std::string schema = J(schema_json);
    auto parsed = Schema::parse(MpView(schema));
    const IndexSpec& spec = parsed->indexes().at(0);
    Index ix(spec);
    std::mt19937_64 rng(11);
    std::map<uint32_t, std::string> live;  // slot -> document
    // The distinct values a field contributes (array elements, nil for missing), as keys_of.
    auto values = [](MpView doc, const char* f) {
      std::vector<MpView> out;
      MpView v = doc.get(f);
      auto add = [&](MpView x) {
        for (MpView y : out)
          if (compare_values(x, y) == 0) return;
        out.push_back(x);
      };
      static const std::string nil = J("null");
      if (!v.valid())
        add(MpView(nil));
      else if (v.type() == MpType::Array && v.count() > 0) {
        ArrayIter it(v);
        MpView e;
        while (it.next(e)) add(e);
      } else {
        add(v);
      }
      return out;
    };
    for (int step = 0; step < 400; ++step) {
      bool erase = !live.empty() && rng() % 3 == 0;
      if (erase) {
        auto it = std::next(live.begin(), long(rng() % live.size()));
        ix.erase(MpView(it->second), it->first);
        live.erase(it);
      } else {
        std::string d;
        MpWriter w(d);
        bool has_a = rng() % 8 != 0;
        w.map_header(has_a ? 2 : 1);
        if (has_a) w.str("a"), w.raw(pool[rng() % pool.size()]);
        w.str("b"), w.raw(pool[rng() % pool.size()]);
        // Entries of a single-field unique index point into the document: keep it in place.
        uint32_t slot = uint32_t(step);
        const std::string& kept = live[slot] = d;
        IndexKeys keys;
        ix.keys_of(MpView(kept), keys);
        if (spec.unique) {
          if (ix.insert_checked(keys, slot)) live.erase(slot);  // a duplicate: refused
        } else {
          ix.insert(keys, slot);
        }
      }
      // The model: every (key tuple, slot), in index order.
      struct Row {
        std::vector<MpView> key;
        uint32_t slot;
      };
      std::vector<Row> rows;
      for (auto& [slot, d] : live) {
        std::vector<std::vector<MpView>> per;
        for (auto& f : spec.fields) per.push_back(values(MpView(d), f.first.dotted.c_str()));
        std::vector<MpView> key(per.size());
        std::function<void(size_t)> fan = [&](size_t i) {
          if (i == per.size()) return rows.push_back(Row{key, slot});
          for (MpView v : per[i]) key[i] = v, fan(i + 1);
        };
        fan(0);
      }
      std::sort(rows.begin(), rows.end(), [&](const Row& x, const Row& y) {
        for (size_t i = 0; i < x.key.size(); ++i)
          if (int c = compare_values(x.key[i], y.key[i])) return spec.fields[i].second * c < 0;
        return x.slot < y.slot;
      });
      std::vector<uint32_t> want;
      for (auto& r : rows) want.push_back(r.slot);
      std::vector<uint32_t> got, back;
      ix.scan(IndexBounds{}, false, [&](uint32_t s) { return got.push_back(s), true; });
      ix.scan(IndexBounds{}, true, [&](uint32_t s) { return back.push_back(s), true; });
      std::reverse(back.begin(), back.end());
      BOOST_TEST(got == want, schema_json << " step " << step);
      BOOST_TEST(back == want, schema_json << " step " << step);
      BOOST_TEST(ix.entries() == want.size());
      if (got != want) break;
    }
  }
}
