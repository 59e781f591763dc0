#include "core/ejson.h"

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace mg {

namespace {

constexpr int kMaxJsonDepth = 102;

void convert(const rapidjson::Value& j, MpWriter& w, int depth);

bool special_object(const rapidjson::Value& j, MpWriter& w) {
  if (j.MemberCount() != 1) return false;
  auto m = j.MemberBegin();
  std::string_view key(m->name.GetString(), m->name.GetStringLength());
  const rapidjson::Value& v = m->value;
  if (key == "$date") {
    Date d;
    if (v.IsString()) {
      if (!parse_iso_date({v.GetString(), v.GetStringLength()}, d))
        fail(ErrorCode::BadValue, "bad $date: '" + std::string(v.GetString()) + "'");
    } else if (v.IsInt64()) {
      d = Date::from_millis(v.GetInt64());
    } else if (v.IsObject() && v.HasMember("$numberLong") && v["$numberLong"].IsString()) {
      int64_t ms = 0;
      const auto& s = v["$numberLong"];
      auto r = std::from_chars(s.GetString(), s.GetString() + s.GetStringLength(), ms);
      if (r.ec != std::errc()) fail(ErrorCode::BadValue, "bad $date.$numberLong");
      d = Date::from_millis(ms);
    } else {
      fail(ErrorCode::BadValue, "bad $date: expected an ISO-8601 string or milliseconds");
    }
    w.date(d);
    return true;
  }
  if (key == "$binary") {
    std::string bytes;
    const rapidjson::Value* b64 = &v;
    if (v.IsObject() && v.HasMember("base64")) b64 = &v["base64"];
    if (!b64->IsString() || !base64_decode({b64->GetString(), b64->GetStringLength()}, bytes))
      fail(ErrorCode::BadValue, "bad $binary: expected base64 text");
    w.bin(bytes);
    return true;
  }
  if (key == "$numberDouble" && v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    double d;
    if (s == "NaN")
      d = NAN;
    else if (s == "Infinity")
      d = INFINITY;
    else if (s == "-Infinity")
      d = -INFINITY;
    else
      d = std::strtod(std::string(s).c_str(), nullptr);
    w.float64(d);
    return true;
  }
  if (key == "$numberLong" && v.IsString()) {
    int64_t i = 0;
    auto r = std::from_chars(v.GetString(), v.GetString() + v.GetStringLength(), i);
    if (r.ec != std::errc()) fail(ErrorCode::BadValue, "bad $numberLong");
    w.integer(i);
    return true;
  }
  return false;
}

void convert(const rapidjson::Value& j, MpWriter& w, int depth) {
  if (depth > kMaxJsonDepth) fail(ErrorCode::BadValue, "JSON nested too deeply");
  switch (j.GetType()) {
    case rapidjson::kNullType:
      w.nil();
      break;
    case rapidjson::kFalseType:
      w.boolean(false);
      break;
    case rapidjson::kTrueType:
      w.boolean(true);
      break;
    case rapidjson::kStringType:
      w.str({j.GetString(), j.GetStringLength()});
      break;
    case rapidjson::kNumberType:
      if (j.IsInt64())
        w.integer(j.GetInt64());
      else
        w.float64(j.GetDouble());
      break;
    case rapidjson::kArrayType:
      w.array_header(j.Size());
      for (auto& e : j.GetArray()) convert(e, w, depth + 1);
      break;
    case rapidjson::kObjectType:
      if (special_object(j, w)) break;
      w.map_header(j.MemberCount());
      for (auto& m : j.GetObject()) {
        w.str({m.name.GetString(), m.name.GetStringLength()});
        convert(m.value, w, depth + 1);
      }
      break;
  }
}

// True when one of the 8 bytes of x is below 0x20, '"' or '\\' (a character JSON escapes).
// Word-at-a-time tests (Hacker's Delight 6-1): no false negatives; a false positive only
// sends those bytes through the per-character path.
inline bool may_need_escape(uint64_t x) {
  constexpr uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - ones) & ~v & high; };
  return ((x - ones * 0x20) & ~x & high) | has_zero(x ^ (ones * '"')) | has_zero(x ^ (ones * '\\'));
}

// The bytes JSON escapes: below 0x20, '"' and '\\'.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[size_t(c)] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

// Where msgpack_to_ejson writes: a raw cursor into the caller's string. Each item first makes
// room for the most it can write (need), then stores its bytes without the capacity check and
// terminator that every std::string push_back/append pays (on a document of short fields those
// cost more than the bytes themselves). The string is cut back to what was written at the end.
class JsonCursor {
 public:
  explicit JsonCursor(std::string& s) : s_(s), start_(s.size()) {
    size_t at = s_.size();
    s_.resize(at + kSlack);
    p_ = s_.data() + at;
    end_ = s_.data() + s_.size();
  }
  ~JsonCursor() { s_.resize(size_t(p_ - s_.data())); }
  JsonCursor(const JsonCursor&) = delete;
  JsonCursor& operator=(const JsonCursor&) = delete;

  // Room for `n` more bytes at the returned position (valid until the next need()).
  char* need(size_t n) {
    if (size_t(end_ - p_) < n) grow(n);
    return p_;
  }
  // Marks the bytes up to `p` (obtained from need()) as written.
  void done(char* p) { p_ = p; }
  // need(1) and the byte.
  void put(char c) { *need(1) = c, ++p_; }
  // need(t.size()) and the bytes.
  void put(std::string_view t) {
    std::memcpy(need(t.size()), t.data(), t.size());
    p_ += t.size();
  }

 private:
  // Grows the string by what is asked plus as much as was written so far (only the new bytes
  // are zero-filled; the string's own capacity grows geometrically). Out of line: need()
  // stays two instructions.
  [[gnu::noinline]] void grow(size_t n) {
    size_t at = size_t(p_ - s_.data());
    s_.resize(at + n + std::max(kSlack, at - start_));
    p_ = s_.data() + at;
    end_ = s_.data() + s_.size();
  }
  static constexpr size_t kSlack = 384;  // a document of a dozen short fields fits
  std::string& s_;
  size_t start_;
  char* p_;
  char* end_;
};

constexpr char kHex[] = "0123456789abcdef";

// The n < 8 bytes at `s` as the low bytes of a word whose other bytes are 'a' (which needs no
// escape), with at most two loads and without reading past s + n. Little-endian hosts: the
// word stored back puts the n bytes first.
inline uint64_t load_tail(const char* s, size_t n) {
  uint64_t x = 0;
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, s, 4), std::memcpy(&hi, s + n - 4, 4);
    x = lo | uint64_t(hi) << (8 * (n - 4));
  } else if (n >= 2) {
    uint16_t lo, hi;
    std::memcpy(&lo, s, 2), std::memcpy(&hi, s + n - 2, 2);
    x = lo | uint64_t(hi) << (8 * (n - 2));
  } else if (n == 1) {
    x = uint8_t(s[0]);
  }
  return x | 0x6161616161616161ull << (8 * n);
}

// The escaping path of put_json_string: bytes [i, n) of `s` at `d`, the closing quote and
// `after`.
[[gnu::noinline]] void put_escaped(const char* s, size_t i, size_t n, char* d, char after,
                                   JsonCursor& o) {
  while (i < n) {
    // Characters that need no escape (nearly all) are copied eight at a time.
    if (i + 8 <= n) {
      uint64_t x;
      std::memcpy(&x, s + i, 8);
      if (!may_need_escape(x)) {
        std::memcpy(d, &x, 8);
        d += 8, i += 8;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i++]);
    if (!kEscaped[c]) {
      *d++ = char(c);
      continue;
    }
    o.done(d);
    d = o.need(6 + (n - i) + 2);  // this escape, the rest unescaped, the quote, `after`
    *d++ = '\\';
    switch (c) {
      case '"':
        *d++ = '"';
        break;
      case '\\':
        *d++ = '\\';
        break;
      case '\n':
        *d++ = 'n';
        break;
      case '\r':
        *d++ = 'r';
        break;
      case '\t':
        *d++ = 't';
        break;
      case '\b':
        *d++ = 'b';
        break;
      case '\f':
        *d++ = 'f';
        break;
      default:
        std::memcpy(d, "u00", 3);
        d[3] = kHex[c >> 4], d[4] = kHex[c & 15];
        d += 5;
    }
  }
  *d++ = '"';
  if (after) *d++ = after;
  o.done(d);
}

// A JSON string (quotes included) of the `n` bytes at `s`, preceded by `before` (',' or '{'
// before a key; 0: nothing) and followed by `after` (':' after a key; 0: nothing). The common
// case, nothing to escape, tests and copies eight bytes at a time, the last few too (stored
// as a whole word into the room reserved beyond them).
void put_json_string(const char* s, size_t n, JsonCursor& o, char before = 0, char after = 0) {
  char* d = o.need(n + 12);
  if (before) *d++ = before;
  *d++ = '"';
  size_t i = 0;
  uint64_t x;
  for (; i + 8 <= n; i += 8, d += 8) {
    std::memcpy(&x, s + i, 8);
    if (may_need_escape(x)) return put_escaped(s, i, n, d, after, o);
    std::memcpy(d, &x, 8);
  }
  if (i < n) {
    if constexpr (std::endian::native != std::endian::little)  // load_tail's byte order
      return put_escaped(s, i, n, d, after, o);
    x = load_tail(s + i, n - i);
    if (may_need_escape(x)) return put_escaped(s, i, n, d, after, o);
    std::memcpy(d, &x, 8);
    d += n - i;
  }
  *d++ = '"';
  if (after) *d++ = after;
  o.done(d);
}

// The text std::to_chars(v) writes, for a finite v != 0 that is a decimal with at most three
// fractional digits below 10^12 (prices, scores, measures: most doubles stored), at a tenth of
// its cost (~60 instead of ~600 instructions). Returns the end of what it wrote into `d` (room
// for 32), or nullptr, writing nothing that matters, when it does not handle v.
//
// Why it is exact: to_chars writes the shortest digits that read back as v, in fixed notation
// unless scientific is shorter. With a = |v| and m the integer nearest a * 10^k for the
// smallest k whose m / 10^k reads back as a (an IEEE division of two exact integers is the
// correctly rounded m / 10^k, as strtod's result is), those digits are m's (without trailing
// zeros when k = 0): no decimal with fewer digits lies within half an ulp of a, since
// a * 10^k < 2^50 keeps the ulp below a quarter of 10^-k.
char* put_short_decimal(double v, char* d) {
  static constexpr double kPow10[] = {1, 10, 100, 1000};
  static constexpr int64_t kIPow10[] = {1, 10, 100, 1000};
  double a = std::fabs(v);
  if (!(a >= 1e-3 && a < 1e12)) return nullptr;
  int k = 0;
  int64_t m = 0;
  for (;; ++k) {
    if (k > 3) return nullptr;
    m = int64_t(a * kPow10[k] + 0.5);
    if (double(m) / kPow10[k] == a) break;
  }
  int len = 1;  // decimal digits of m
  for (int64_t t = m; t >= 10; t /= 10) ++len;
  int exp10 = len - 1 - k, digits = len;  // scientific: exponent and significant digits
  if (k == 0)
    for (int64_t t = m; t % 10 == 0; t /= 10) --digits;
  int fixed = (exp10 >= 0 ? exp10 + 1 : 1) + (k > 0 ? 1 + k : 0);
  int sci = digits + (digits > 1 ? 1 : 0) + 2 + (exp10 <= -100 || exp10 >= 100 ? 3 : 2);
  if (fixed > sci) return nullptr;  // to_chars writes it in scientific notation
  if (v < 0) *d++ = '-';
  d = std::to_chars(d, d + 16, m / kIPow10[k]).ptr;
  *d++ = '.';
  if (k == 0) {
    *d++ = '0';  // a float keeps a fraction
    return d;
  }
  for (int64_t f = m % kIPow10[k], i = k - 1; i >= 0; --i, f /= 10) d[i] = char('0' + f % 10);
  return d + k;
}

void put_double(double v, JsonCursor& o) {
  if (std::isnan(v)) return o.put(R"({"$numberDouble":"NaN"})");
  if (std::isinf(v))
    return o.put(v > 0 ? R"({"$numberDouble":"Infinity"})" : R"({"$numberDouble":"-Infinity"})");
  char* d = o.need(32);  // the shortest form is at most 24 characters
  if (char* e = put_short_decimal(v, d)) return o.done(e);
  char* e = std::to_chars(d, d + 30, v).ptr;
  if (std::find_if(d, e, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == e)
    *e++ = '.', *e++ = '0';
  o.done(e);
}

// Base64 of n bytes at `in` into `out` (which has room for 4 * ceil(n / 3)); returns its end.
char* put_base64(const char* in, size_t n, char* out) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v =
        uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out[0] = tbl[v >> 18], out[1] = tbl[(v >> 12) & 63];
    out[2] = tbl[(v >> 6) & 63], out[3] = tbl[v & 63];
    out += 4;
  }
  if (i < n) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < n) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out[0] = tbl[v >> 18], out[1] = tbl[(v >> 12) & 63];
    out[2] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out[3] = '=';
    out += 4;
  }
  return out;
}

// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm, proleptic
// Gregorian, as gmtime).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = int64_t(yoe) + era * 400 + (m <= 2);
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters) into `buf` for a date of the years 0000 to 9999,
// digit by digit (snprintf cost ~2,500 instructions a date, paid by every date of every
// document a file or sqlite model writes); returns false, writing nothing, for other years.
bool put_iso_date(Date date, char* buf) {
  int64_t ms = date.millis();
  int64_t secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) rem += 1000, secs -= 1;
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) sod += 86400, days -= 1;
  int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  if (year < 0 || year > 9999) return false;
  static constexpr std::array<char, 200> kPairs = [] {  // "00" "01" ... "99"
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i)
      t[size_t(2 * i)] = char('0' + i / 10), t[size_t(2 * i + 1)] = char('0' + i % 10);
    return t;
  }();
  auto put2 = [buf](int at, unsigned v) { std::memcpy(buf + at, &kPairs[2 * v], 2); };
  std::memcpy(buf, "0000-00-00T00:00:00.000Z", 24);
  put2(0, unsigned(year) / 100), put2(2, unsigned(year) % 100), put2(5, month), put2(8, day);
  put2(11, unsigned(sod / 3600)), put2(14, unsigned(sod / 60 % 60)), put2(17, unsigned(sod % 60));
  buf[20] = char('0' + rem / 100), put2(21, unsigned(rem % 100));
  return true;
}

void put_date(Date date, JsonCursor& o) {
  // ISO-8601 has four year digits: a date outside years 0000-9999 is written as
  // {"$date":{"$numberLong":"<ms>"}} (as MongoDB's relaxed Extended JSON does), which the
  // reader takes back; "-067-04-30T..." would not be read again (a snapshot or WAL line
  // that recovery refuses).
  constexpr int64_t kYear0 = -62167219200, kYear10000 = 253402300800;  // seconds
  char* d = o.need(48);
  if (date.sec >= kYear0 && date.sec < kYear10000 && put_iso_date(date, d + 10)) {
    std::memcpy(d, R"({"$date":")", 10);
    std::memcpy(d + 34, "\"}", 2);
    return o.done(d + 36);
  }
  std::memcpy(d, R"({"$date":{"$numberLong":")", 25);
  d = std::to_chars(d + 25, d + 45, date.millis()).ptr;
  std::memcpy(d, "\"}}", 3);
  o.done(d + 3);
}

// Writes the validated value at `p`; returns the first byte after it. Decodes the bytes
// directly (one pass, no MpView::end() walks over what is written anyway).
const uint8_t* put_value(const uint8_t* p, JsonCursor& o) {
  uint8_t b = *p;
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {  // int
    char* d = o.need(20);
    o.done(std::to_chars(d, d + 20, MpView(p).as_int()).ptr);
    return p + mp_head_size(p);
  }
  if (b <= 0x8f || b == 0xde || b == 0xdf) {  // map
    MpView v(p);
    uint32_t n = v.count();
    p = v.first();
    if (n == 0) o.put("{}");
    for (uint32_t i = 0; i < n; ++i) {
      std::string_view k = MpView(p).as_str();
      put_json_string(k.data(), k.size(), o, i ? ',' : '{', ':');
      p = put_value(reinterpret_cast<const uint8_t*>(k.data() + k.size()), o);
    }
    if (n > 0) o.put('}');
    return p;
  }
  if (b <= 0x9f || b == 0xdc || b == 0xdd) {  // array
    MpView v(p);
    uint32_t n = v.count();
    p = v.first();
    o.put('[');
    for (uint32_t i = 0; i < n; ++i) {
      if (i) o.put(',');
      p = put_value(p, o);
    }
    o.put(']');
    return p;
  }
  if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb)) {  // str
    std::string_view s = MpView(p).as_str();
    put_json_string(s.data(), s.size(), o);
    return reinterpret_cast<const uint8_t*>(s.data() + s.size());
  }
  switch (b) {
    case 0xc0:
      o.put("null");
      return p + 1;
    case 0xc2:
      o.put("false");
      return p + 1;
    case 0xc3:
      o.put("true");
      return p + 1;
    case 0xc4:
    case 0xc5:
    case 0xc6: {
      std::string_view bin = MpView(p).as_bin();
      char* d = o.need(14 + (bin.size() + 2) / 3 * 4);
      std::memcpy(d, R"({"$binary":")", 12);
      d = put_base64(bin.data(), bin.size(), d + 12);
      std::memcpy(d, "\"}", 2);
      o.done(d + 2);
      return reinterpret_cast<const uint8_t*>(bin.data() + bin.size());
    }
    case 0xca:
      put_double(MpView(p).as_double(), o);
      return p + 5;
    case 0xcb:
      put_double(MpView(p).as_double(), o);
      return p + 9;
    default: {  // the timestamp extension: the only one validation lets through
      put_date(MpView(p).as_date(), o);
      return p + mp_head_size(p);
    }
  }
}

}  // namespace

namespace {

// Passes RapidJSON's SAX events to a Document unchanged, except numbers: the reader hands them
// over as text (kParseNumbersAsStringsFlag) and they are converted here with std::from_chars
// (exact, locale-free). RapidJSON 1.1.0's own full-precision conversion reads out of bounds on
// a long mantissa with a large exponent (found by fuzz_ejson; the input is in its corpus).
struct NumberHandler {
  using Ch = char;
  using SizeType = rapidjson::SizeType;
  rapidjson::Document& doc;
  std::string error;  // why a number was refused

  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  bool Double(double d) { return doc.Double(d); }
  bool String(const Ch* s, SizeType n, bool copy) { return doc.String(s, n, copy); }
  bool StartObject() { return doc.StartObject(); }
  bool Key(const Ch* s, SizeType n, bool copy) { return doc.Key(s, n, copy); }
  bool EndObject(SizeType n) { return doc.EndObject(n); }
  bool StartArray() { return doc.StartArray(); }
  bool EndArray(SizeType n) { return doc.EndArray(n); }
  // An integer that fits int64 stays one; anything else is the nearest double.
  bool RawNumber(const Ch* s, SizeType n, bool) {
    std::string_view text(s, n);
    if (text.find_first_of(".eE") == std::string_view::npos) {
      int64_t i = 0;
      auto r = std::from_chars(s, s + n, i);
      if (r.ec == std::errc() && r.ptr == s + n) return doc.Int64(i);
    }
    double d = 0;
    auto r = std::from_chars(s, s + n, d);
    if (r.ec == std::errc::result_out_of_range) {
      // Overflow or underflow: from_chars does not say which; the exponent's sign does.
      size_t e = text.find_first_of("eE");
      bool tiny = e != std::string_view::npos && e + 1 < n && s[e + 1] == '-';
      if (!tiny) {
        error = "number too big for a double: " + std::string(text.substr(0, 40));
        return false;
      }
      return doc.Double(text[0] == '-' ? -0.0 : 0.0);
    }
    if (r.ec != std::errc() || r.ptr != s + n) {
      error = "bad number: " + std::string(text.substr(0, 40));
      return false;
    }
    return doc.Double(d);
  }
};

}  // namespace

Status ejson_to_msgpack(std::string_view json, std::string& out) {
  return guard([&]() -> Status {
    rapidjson::Document doc;
    NumberHandler numbers{doc, {}};
    rapidjson::ParseResult parsed;
    auto parse = [&](rapidjson::Document&) {
      rapidjson::Reader reader;
      rapidjson::MemoryStream ms(json.data(), json.size());
      rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
      parsed = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
          is, numbers);
      return !parsed.IsError();
    };
    doc.Populate(parse);
    if (parsed.IsError())
      return make_status(ErrorCode::FailedToParse,
                         std::string("bad JSON at offset ") + std::to_string(parsed.Offset()) +
                             ": " +
                             (numbers.error.empty() ? rapidjson::GetParseError_En(parsed.Code())
                                                    : numbers.error.c_str()));
    MpWriter w(out);
    convert(doc, w, 0);
    return Status::OK();
  });
}

void msgpack_to_ejson(MpView v, std::string& out) {
  JsonCursor o(out);
  put_value(v.data(), o);
}

std::string mp_from_json(std::string_view json) {
  std::string out;
  Status s = ejson_to_msgpack(json, out);
  if (!s.ok()) fail(std::move(s));
  return out;
}

std::string json_from_mp(std::string_view msgpack) {
  std::string out;
  msgpack_to_ejson(MpView(msgpack), out);
  return out;
}

std::string format_iso_date(Date d) {
  char buf[64];
  if (put_iso_date(d, buf)) return std::string(buf, 24);
  int64_t ms = d.millis();
  int64_t secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) rem += 1000, secs -= 1;
  time_t t = time_t(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  // rare: a year outside 0000-9999, in snprintf's own forms ("-067", "10000")
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(rem));
  return buf;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

bool parse_iso_date(std::string_view s, Date& out) {
  // YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]
  auto num = [&](size_t pos, size_t len, int& v) {
    if (pos + len > s.size()) return false;
    v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int Y, M, D, h = 0, mi = 0, sec = 0;
  if (!num(0, 4, Y) || s.size() < 10 || s[4] != '-' || !num(5, 2, M) || s[7] != '-' ||
      !num(8, 2, D))
    return false;
  if (M < 1 || M > 12 || D < 1 || D > 31) return false;
  size_t p = 10;
  int64_t ms = 0;
  if (p < s.size() && (s[p] == 'T' || s[p] == ' ')) {
    if (!num(p + 1, 2, h) || p + 3 >= s.size() || s[p + 3] != ':' || !num(p + 4, 2, mi))
      return false;
    p += 6;
    if (p < s.size() && s[p] == ':') {
      if (!num(p + 1, 2, sec)) return false;
      p += 3;
      if (p < s.size() && s[p] == '.') {
        ++p;
        int digits = 0;
        int64_t frac = 0;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          if (digits < 3) frac = frac * 10 + (s[p] - '0'), ++digits;
          ++p;
        }
        if (digits == 0) return false;
        while (digits < 3) frac *= 10, ++digits;
        ms = frac;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return false;
  }
  int64_t offset_min = 0;
  if (p < s.size()) {
    if (s[p] == 'Z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      if (!num(p + 1, 2, oh) || p + 3 >= s.size() || s[p + 3] != ':' || !num(p + 4, 2, om))
        return false;
      offset_min = (oh * 60 + om) * (s[p] == '+' ? 1 : -1);
      p += 6;
    }
  }
  if (p != s.size()) return false;
  int64_t days = days_from_civil(Y, unsigned(M), unsigned(D));
  int64_t total = ((days * 24 + h) * 60 + mi - offset_min) * 60 + sec;
  out = Date::from_millis(total * 1000 + ms);
  return true;
}

std::string base64_encode(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4, '\0');
  put_base64(in.data(), in.size(), out.data());
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;
    int v = val(c);
    if (v < 0) return false;
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return pad <= 2;
}

}  // namespace mg
