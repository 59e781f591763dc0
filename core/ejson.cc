#include "core/ejson.h"

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <array>
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

void put_json_string(std::string_view s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  // Characters that need no escape (nearly all) are appended in runs, eight tested at a time.
  size_t run = 0, i = 0;
  const size_t n = s.size();
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t x;
      std::memcpy(&x, s.data() + i, 8);
      if (!may_need_escape(x)) {
        i += 8;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i++]);
    if (!kEscaped[c]) continue;
    out.append(s.data() + run, i - 1 - run);
    run = i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(u, sizeof u);
      }
    }
  }
  out.append(s.data() + run, n - run);
  out.push_back('"');
}

void put_double(double d, std::string& out) {
  if (std::isnan(d)) {
    out += R"({"$numberDouble":"NaN"})";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? R"({"$numberDouble":"Infinity"})" : R"({"$numberDouble":"-Infinity"})";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view s(buf, size_t(r.ptr - buf));
  out.append(s);
  if (s.find_first_of(".eE") == std::string_view::npos) out += ".0";
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
  switch (v.type()) {
    case MpType::Nil:
      out += "null";
      break;
    case MpType::Bool:
      out += v.as_bool() ? "true" : "false";
      break;
    case MpType::Int: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, size_t(r.ptr - buf));
      break;
    }
    case MpType::Float:
      put_double(v.as_double(), out);
      break;
    case MpType::Str:
      put_json_string(v.as_str(), out);
      break;
    case MpType::Bin:
      out += R"({"$binary":")";
      out += base64_encode(v.as_bin());
      out += "\"}";
      break;
    case MpType::Date: {
      // ISO-8601 has four year digits: a date outside years 0000-9999 is written as
      // {"$date":{"$numberLong":"<ms>"}} (as MongoDB's relaxed Extended JSON does), which the
      // reader takes back; "-067-04-30T..." would not be read again (a snapshot or WAL line
      // that recovery refuses).
      constexpr int64_t kYear0 = -62167219200, kYear10000 = 253402300800;  // seconds
      Date d = v.as_date();
      if (d.sec >= kYear0 && d.sec < kYear10000) {
        out += R"({"$date":")";
        out += format_iso_date(d);
        out += "\"}";
      } else {
        out += R"({"$date":{"$numberLong":")";
        out += std::to_string(d.millis());
        out += "\"}}";
      }
      break;
    }
    case MpType::Array: {
      out.push_back('[');
      ArrayIter it(v);
      MpView e;
      bool first = true;
      while (it.next(e)) {
        if (!first) out.push_back(',');
        first = false;
        msgpack_to_ejson(e, out);
      }
      out.push_back(']');
      break;
    }
    case MpType::Map: {
      out.push_back('{');
      MapIter it(v);
      std::string_view k;
      MpView e;
      bool first = true;
      while (it.next(k, e)) {
        if (!first) out.push_back(',');
        first = false;
        put_json_string(k, out);
        out.push_back(':');
        msgpack_to_ejson(e, out);
      }
      out.push_back('}');
      break;
    }
  }
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
  int64_t ms = d.millis();
  int64_t secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) rem += 1000, secs -= 1;
  time_t t = time_t(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  int year = tm.tm_year + 1900;
  char buf[64];
  if (year < 0 || year > 9999) {  // rare: snprintf's own forms ("-067", "10000")
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(rem));
    return buf;
  }
  // YYYY-MM-DDTHH:MM:SS.mmmZ written digit by digit: snprintf cost ~2,500 instructions a date,
  // paid by every date of every document a file or sqlite model writes.
  auto put = [&buf](int at, int value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10) buf[at + i] = char('0' + value % 10);
  };
  std::memcpy(buf, "0000-00-00T00:00:00.000Z", 24);
  put(0, year, 4), put(5, tm.tm_mon + 1, 2), put(8, tm.tm_mday, 2);
  put(11, tm.tm_hour, 2), put(14, tm.tm_min, 2), put(17, tm.tm_sec, 2), put(20, int(rem), 3);
  return std::string(buf, 24);
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
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n =
        uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out.push_back(tbl[n >> 18]);
    out.push_back(tbl[(n >> 12) & 63]);
    out.push_back(tbl[(n >> 6) & 63]);
    out.push_back(tbl[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(tbl[n >> 18]);
    out.push_back(tbl[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? tbl[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
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
