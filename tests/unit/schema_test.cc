// Schemas: parsing, validation issues, defaults, timestamps, declared indexes (CONTRACT.md §5,
// DocumentValidationFailure in §6).
#define BOOST_TEST_MODULE schema
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include "core/ejson.h"
#include "core/msgpack.h"
#include "core/schema.h"
#include "core/value.h"

using namespace mg;
using mg::mp_from_json;

static std::string J(const char* json) {
  return mp_from_json(json);
}

// Counts heap allocations, so a test can check that validating a valid document allocates
// nothing.
static std::atomic<long> g_allocations{0};
[[gnu::noinline]] void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

// Parses a schema from JSON (the schema keeps its own copy of the bytes).
static std::shared_ptr<const Schema> S(const char* json) {
  std::string mp = J(json);
  return Schema::parse(MpView(mp));
}

static Status V(const Schema& s, const char* doc) {
  std::string mp = J(doc);
  return s.validate(MpView(mp));
}

static bool ok(const Schema& s, const char* doc) {
  return V(s, doc).ok();
}

// The reasons reported for `path`, in order.
static std::vector<std::string> reasons(const Status& st, const std::string& path) {
  std::vector<std::string> out;
  for (const auto& e : st.errors)
    if (e.path == path) out.push_back(e.reason);
  return out;
}

static ErrorCode parse_code(const char* json) {
  std::string mp = J(json);
  try {
    Schema::parse(MpView(mp));
  } catch (const Error& e) {
    return e.status.code;
  }
  return ErrorCode::Ok;
}

static std::string parse_message(const char* json) {
  std::string mp = J(json);
  try {
    Schema::parse(MpView(mp));
  } catch (const Error& e) {
    return e.status.message;
  }
  return "";
}

BOOST_AUTO_TEST_CASE(empty_schema_accepts_everything_and_keeps_bytes) {
  auto none = Schema::parse(MpView());
  BOOST_TEST(none->encoded() == std::string("\x80", 1));
  BOOST_TEST(none->indexes().empty());
  BOOST_TEST(!none->timestamps());
  BOOST_TEST(none->inserts_unchanged());
  BOOST_TEST(ok(*none, R"({"anything":[1,{"x":2}]})"));
  std::string given = J(R"({"fields":{"name":"string"},"strict":false})");
  auto s = Schema::parse(MpView(given));
  BOOST_TEST(s->encoded() == given);
}

BOOST_AUTO_TEST_CASE(each_type_accepts_its_values_and_refuses_others) {
  auto s = S(R"({"fields":{"s":"string","n":"number","i":{"type":"int"},"b":"bool",)"
             R"("d":"date","a":"array","o":"object","id":"objectId","bin":"binary","x":"any"}})");
  BOOST_TEST(ok(*s, R"({"s":"hi","n":1.5,"i":3,"b":false,"d":{"$date":"2024-01-01T00:00:00Z"},)"
                    R"("a":[1],"o":{"k":1},"id":"65a1b2c3d4e5f60718293a4b",)"
                    R"("bin":{"$binary":"AAE="},"x":[{"y":1}]})"));
  BOOST_TEST(ok(*s, R"({"n":7,"id":"65A1B2C3D4E5F60718293A4B","x":"str"})"));  // int is a number
  // int refuses a float, even an integral one (MessagePack keeps the distinction)
  BOOST_TEST(reasons(V(*s, R"({"i":2.0})"), "i") ==
             std::vector<std::string>{"expected int, got float"});
  BOOST_TEST(reasons(V(*s, R"({"i":"3"})"), "i") ==
             std::vector<std::string>{"expected int, got string"});
  BOOST_TEST(reasons(V(*s, R"({"n":"1"})"), "n") ==
             std::vector<std::string>{"expected number, got string"});
  BOOST_TEST(reasons(V(*s, R"({"s":1})"), "s") ==
             std::vector<std::string>{"expected string, got int"});
  BOOST_TEST(reasons(V(*s, R"({"b":0})"), "b") ==
             std::vector<std::string>{"expected bool, got int"});
  // a date is a MessagePack timestamp, not an ISO string or a number
  BOOST_TEST(reasons(V(*s, R"({"d":"2024-01-01T00:00:00Z"})"), "d") ==
             std::vector<std::string>{"expected date, got string"});
  BOOST_TEST(!ok(*s, R"({"d":1704067200000})"));
  BOOST_TEST(reasons(V(*s, R"({"a":{"0":1}})"), "a") ==
             std::vector<std::string>{"expected array, got object"});
  BOOST_TEST(reasons(V(*s, R"({"o":[1]})"), "o") ==
             std::vector<std::string>{"expected object, got array"});
  BOOST_TEST(reasons(V(*s, R"({"bin":"AAE="})"), "bin") ==
             std::vector<std::string>{"expected binary, got string"});
  // objectId: exactly 24 hex digits
  for (const char* bad :
       {R"({"id":"65a1b2c3d4e5f60718293a4"})", R"({"id":"65a1b2c3d4e5f60718293a4bc"})",
        R"({"id":"65a1b2c3d4e5f60718293a4g"})", R"({"id":123})"}) {
    Status st = V(*s, bad);
    BOOST_TEST(int(st.code) == int(ErrorCode::DocumentValidationFailure), bad);
    BOOST_TEST(reasons(st, "id").size() == 1u, bad);
  }
  BOOST_TEST(reasons(V(*s, R"({"id":"zz"})"), "id")[0] ==
             "expected objectId (24 hex digits), got string");
}

BOOST_AUTO_TEST_CASE(required_treats_nil_as_missing_and_optional_fields_are_not_checked) {
  auto s =
      S(R"({"fields":{"name":{"type":"string","required":true},"age":{"type":"int","min":0}}})");
  BOOST_TEST(ok(*s, R"({"name":"a"})"));             // age missing: not checked
  BOOST_TEST(ok(*s, R"({"name":"a","age":null})"));  // nil on an optional field: not checked
  Status st = V(*s, R"({"age":1})");
  BOOST_TEST(int(st.code) == int(ErrorCode::DocumentValidationFailure));
  BOOST_TEST(reasons(st, "name") == std::vector<std::string>{"is required"});
  BOOST_TEST(reasons(V(*s, R"({"name":null})"), "name") == std::vector<std::string>{"is required"});
  // present but the wrong type: a type issue, not "is required"
  BOOST_TEST(reasons(V(*s, R"({"name":5})"), "name") ==
             std::vector<std::string>{"expected string, got int"});
}

BOOST_AUTO_TEST_CASE(min_and_max_bound_numbers_by_value) {
  auto s = S(
      R"({"fields":{"age":{"type":"int","min":0,"max":150},"score":{"type":"number","min":-1.5,"max":2}}})");
  BOOST_TEST(ok(*s, R"({"age":0,"score":-1.5})"));
  BOOST_TEST(ok(*s, R"({"age":150,"score":2.0})"));
  BOOST_TEST(reasons(V(*s, R"({"age":-1})"), "age") == std::vector<std::string>{"must be >= 0"});
  BOOST_TEST(reasons(V(*s, R"({"age":151})"), "age") == std::vector<std::string>{"must be <= 150"});
  BOOST_TEST(reasons(V(*s, R"({"score":-1.6})"), "score") ==
             std::vector<std::string>{"must be >= -1.5"});
  BOOST_TEST(reasons(V(*s, R"({"score":3})"), "score") == std::vector<std::string>{"must be <= 2"});
  BOOST_TEST(!ok(*s, R"({"score":2.0000001})"));
}

BOOST_AUTO_TEST_CASE(min_and_max_bound_dates) {
  auto s = S(R"({"fields":{"at":{"type":"date","min":{"$date":"2020-01-01T00:00:00Z"},)"
             R"("max":{"$date":"2030-01-01T00:00:00Z"}}}})");
  BOOST_TEST(ok(*s, R"({"at":{"$date":"2020-01-01T00:00:00Z"}})"));
  BOOST_TEST(ok(*s, R"({"at":{"$date":"2025-06-01T12:00:00Z"}})"));
  BOOST_TEST(reasons(V(*s, R"({"at":{"$date":"2019-12-31T23:59:59.999Z"}})"), "at") ==
             std::vector<std::string>{"must be >= 2020-01-01T00:00:00.000Z"});
  BOOST_TEST(reasons(V(*s, R"({"at":{"$date":"2030-01-01T00:00:00.001Z"}})"), "at") ==
             std::vector<std::string>{"must be <= 2030-01-01T00:00:00.000Z"});
  // the operand of a date bound must be a date
  BOOST_TEST(int(parse_code(R"({"fields":{"at":{"type":"date","min":0}}})")) ==
             int(ErrorCode::TypeMismatch));
  BOOST_TEST(int(parse_code(R"({"fields":{"n":{"type":"number","min":"a"}}})")) ==
             int(ErrorCode::TypeMismatch));
  BOOST_TEST(int(parse_code(R"({"fields":{"s":{"type":"string","min":1}}})")) ==
             int(ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(lengths_count_code_points_for_strings_and_elements_for_arrays) {
  auto s = S(R"({"fields":{"name":{"type":"string","minLength":2,"maxLength":3},)"
             R"("tags":{"type":"array","minLength":1,"maxLength":2}}})");
  BOOST_TEST(ok(*s, R"({"name":"ab","tags":["x"]})"));
  BOOST_TEST(ok(*s, "{\"name\":\"h\u00e9\u4e16\"}"));            // 3 code points, 6 bytes
  BOOST_TEST(reasons(V(*s, "{\"name\":\"\u00e9\"}"), "name") ==  // 1 code point, 2 bytes
             std::vector<std::string>{"length must be >= 2"});
  BOOST_TEST(reasons(V(*s, R"({"name":"abcd"})"), "name") ==
             std::vector<std::string>{"length must be <= 3"});
  BOOST_TEST(reasons(V(*s, R"({"tags":[]})"), "tags") ==
             std::vector<std::string>{"length must be >= 1"});
  BOOST_TEST(reasons(V(*s, R"({"tags":[1,2,3]})"), "tags") ==
             std::vector<std::string>{"length must be <= 2"});
  BOOST_TEST(ok(*s, R"({"tags":["aaaaaaaaaaaaaaaaaaaaaa","b"]})"));
}

BOOST_AUTO_TEST_CASE(enum_and_match) {
  auto s =
      S(R"({"fields":{"status":{"type":"string","enum":["active","banned"]},)"
        R"("level":{"type":"number","enum":[1,2]},"code":{"type":"string","match":"^a[0-9]+$"},)"
        R"("email":{"type":"string","match":"@"}}})");
  BOOST_TEST(ok(*s, R"({"status":"banned","level":2.0,"code":"a12","email":"x@y"})"));
  BOOST_TEST(reasons(V(*s, R"({"status":"gone"})"), "status") ==
             std::vector<std::string>{"must be one of the enum values"});
  BOOST_TEST(!ok(*s, R"({"level":3})"));
  BOOST_TEST(reasons(V(*s, R"({"code":"b12"})"), "code") ==
             std::vector<std::string>{"does not match /^a[0-9]+$/"});
  BOOST_TEST(!ok(*s, R"({"code":"a1x"})"));
  BOOST_TEST(!ok(*s, R"({"email":"nobody"})"));  // PartialMatch: anywhere in the string
}

BOOST_AUTO_TEST_CASE(strict_refuses_unknown_top_level_fields) {
  auto s =
      S(R"({"fields":{"name":"string","address.city":"string"},"strict":true,"timestamps":true})");
  BOOST_TEST(ok(*s, R"({"_id":1,"name":"a","address":{"city":"x","zip":"1"},)"
                    R"("createdAt":{"$date":"2024-01-01T00:00:00Z"}})"));
  Status st = V(*s, R"({"name":"a","extra":1})");
  BOOST_TEST(int(st.code) == int(ErrorCode::DocumentValidationFailure));
  BOOST_TEST(reasons(st, "extra") ==
             std::vector<std::string>{"field is not in the schema (strict)"});
  auto lax = S(R"({"fields":{"name":"string"}})");
  BOOST_TEST(ok(*lax, R"({"name":"a","extra":1})"));
  auto nots = S(R"({"fields":{"name":"string"},"strict":true})");
  BOOST_TEST(!ok(*nots, R"({"createdAt":1})"));  // no timestamps: createdAt is unknown
}

BOOST_AUTO_TEST_CASE(every_issue_is_collected_with_its_path) {
  auto s = S(R"({"fields":{"name":{"type":"string","required":true},"age":{"type":"int","min":0},)"
             R"("address.city":{"type":"string","maxLength":3}},"strict":true})");
  Status st = V(*s, R"({"age":-5,"address":{"city":"London"},"x":1})");
  BOOST_TEST(int(st.code) == int(ErrorCode::DocumentValidationFailure));
  BOOST_TEST_REQUIRE(st.errors.size() == 4u);
  BOOST_TEST(st.errors[0].path == "name");
  BOOST_TEST(st.errors[0].reason == "is required");
  BOOST_TEST(st.errors[1].path == "age");
  BOOST_TEST(st.errors[1].reason == "must be >= 0");
  BOOST_TEST(st.errors[2].path == "address.city");
  BOOST_TEST(st.errors[2].reason == "length must be <= 3");
  BOOST_TEST(st.errors[3].path == "x");
  BOOST_TEST(st.message == "document failed validation: 'name': is required (and 3 more)");
  Status one = V(*s, R"({"name":"a","age":-1})");
  BOOST_TEST(one.message == "document failed validation: 'age': must be >= 0");
  // several constraints of one field are all reported
  auto two = S(R"({"fields":{"c":{"type":"string","maxLength":2,"match":"^a"}}})");
  BOOST_TEST(reasons(V(*two, R"({"c":"bcd"})"), "c") ==
             (std::vector<std::string>{"length must be <= 2", "does not match /^a/"}));
}

BOOST_AUTO_TEST_CASE(defaults_fill_missing_paths_only) {
  auto s =
      S(R"({"fields":{"status":{"type":"string","default":"new"},)"
        R"("address.country":{"type":"string","default":"NL"},"n":{"type":"int","default":0}}})");
  BOOST_TEST(!s->inserts_unchanged());
  BOOST_TEST(!s->timestamps());
  Value doc = Value::from_bytes(J(R"({"_id":1,"n":5})"));
  s->prepare_insert(doc, Date::now());
  BOOST_TEST(doc.encode() == J(R"({"_id":1,"n":5,"status":"new","address":{"country":"NL"}})"));
  // given values are kept, including nil; an existing intermediate map is filled in
  Value given = Value::from_bytes(J(R"({"status":null,"address":{"city":"A"}})"));
  s->prepare_insert(given, Date::now());
  BOOST_TEST(given.encode() == J(R"({"status":null,"address":{"city":"A","country":"NL"},"n":0})"));
  // a path through a scalar cannot hold a default: left alone
  Value scalar = Value::from_bytes(J(R"({"address":"x","status":"old","n":1})"));
  s->prepare_insert(scalar, Date::now());
  BOOST_TEST(scalar.encode() == J(R"({"address":"x","status":"old","n":1})"));
  // prepare_update does not apply defaults
  Value upd = Value::from_bytes(J(R"({"n":1})"));
  s->prepare_update(upd, Date::now());
  BOOST_TEST(upd.encode() == J(R"({"n":1})"));
  // a default that breaks its own rule is refused at parse
  BOOST_TEST(int(parse_code(R"({"fields":{"n":{"type":"int","default":"x"}}})")) ==
             int(ErrorCode::BadValue));
}

BOOST_AUTO_TEST_CASE(timestamps_are_dates_set_on_insert_and_update) {
  auto s = S(R"({"timestamps":true})");
  BOOST_TEST(s->timestamps());
  BOOST_TEST(!s->inserts_unchanged());
  Date t1 = Date::from_millis(1700000000000), t2 = Date::from_millis(1700000005000);
  Value doc = Value::from_bytes(J(R"({"a":1})"));
  s->prepare_insert(doc, t1);
  BOOST_TEST_REQUIRE(doc.find("createdAt") != nullptr);
  BOOST_TEST_REQUIRE(doc.find("updatedAt") != nullptr);
  BOOST_TEST(int(doc.find("createdAt")->type()) == int(MpType::Date));
  BOOST_TEST(doc.find("createdAt")->as_date().millis() == t1.millis());
  BOOST_TEST(doc.find("updatedAt")->as_date().millis() == t1.millis());
  s->prepare_update(doc, t2);
  BOOST_TEST(doc.find("createdAt")->as_date().millis() == t1.millis());
  BOOST_TEST(doc.find("updatedAt")->as_date().millis() == t2.millis());
  BOOST_TEST(int(doc.find("updatedAt")->type()) == int(MpType::Date));
  // values the document sets on insert are kept
  Value own = Value::from_bytes(J(R"({"createdAt":{"$date":"2000-01-01T00:00:00Z"}})"));
  s->prepare_insert(own, t1);
  BOOST_TEST(own.find("createdAt")->as_date().millis() == 946684800000LL);
  BOOST_TEST(own.find("updatedAt")->as_date().millis() == t1.millis());
  // update of a document without createdAt adds it
  Value bare = Value::from_bytes(J(R"({"a":1})"));
  s->prepare_update(bare, t2);
  BOOST_TEST(bare.find("createdAt")->as_date().millis() == t2.millis());
  // without timestamps nothing changes
  auto plain = S(R"({"fields":{"a":"int"}})");
  BOOST_TEST(plain->inserts_unchanged());
  Value p = Value::from_bytes(J(R"({"a":1})"));
  plain->prepare_insert(p, t1);
  plain->prepare_update(p, t2);
  BOOST_TEST(p.encode() == J(R"({"a":1})"));
}

BOOST_AUTO_TEST_CASE(indexes_from_field_flags_then_the_indexes_list) {
  auto s = S(
      R"({"fields":{"email":{"type":"string","unique":true},"status":{"type":"string","index":true},)"
      R"("name":"string","_id":{"type":"string","unique":true}},)"
      R"("indexes":[{"fields":{"city":1,"age":-1}},{"fields":{"email":1},"unique":true},)"
      R"({"fields":{"expiresAt":1},"ttlSeconds":3600},{"fields":{"a.b":-1},"unique":true}]})");
  const auto& ix = s->indexes();
  BOOST_TEST_REQUIRE(ix.size() == 5u);  // email twice -> once; _id is implicit
  BOOST_TEST(ix[0].name() == "email_1");
  BOOST_TEST(ix[0].unique);
  BOOST_TEST(ix[0].ttl_seconds == -1);
  BOOST_TEST(ix[1].name() == "status_1");
  BOOST_TEST(!ix[1].unique);
  BOOST_TEST(ix[2].name() == "city_1_age_-1");
  BOOST_TEST_REQUIRE(ix[2].fields.size() == 2u);
  BOOST_TEST(ix[2].fields[0].first.dotted == "city");
  BOOST_TEST(ix[2].fields[0].second == 1);
  BOOST_TEST(ix[2].fields[1].first.dotted == "age");
  BOOST_TEST(ix[2].fields[1].second == -1);
  BOOST_TEST(!ix[2].unique);
  BOOST_TEST(ix[3].name() == "expiresAt_1");
  BOOST_TEST(ix[3].ttl_seconds == 3600);
  BOOST_TEST(ix[4].name() == "a.b_-1");
  BOOST_TEST(ix[4].fields[0].first.parts.size() == 2u);
  BOOST_TEST(ix[4].unique);
  BOOST_TEST(!ix[0].same_as(ix[1]));
  BOOST_TEST(ix[0].same_as(ix[0]));
}

BOOST_AUTO_TEST_CASE(index_spec_name_and_same_as) {
  IndexSpec a;
  a.fields.emplace_back(FieldPath::parse("city"), 1);
  a.fields.emplace_back(FieldPath::parse("age"), -1);
  BOOST_TEST(a.name() == "city_1_age_-1");
  IndexSpec b = a;
  BOOST_TEST(a.same_as(b));
  b.unique = true;
  BOOST_TEST(!a.same_as(b));
  b = a;
  b.fields[1].second = 1;
  BOOST_TEST(!a.same_as(b));
  BOOST_TEST(b.name() == "city_1_age_1");
  b = a;
  b.ttl_seconds = 10;
  BOOST_TEST(!a.same_as(b));
  IndexSpec c;
  c.fields.emplace_back(FieldPath::parse("age"), -1);
  c.fields.emplace_back(FieldPath::parse("city"), 1);
  BOOST_TEST(!a.same_as(c));  // order matters
}

BOOST_AUTO_TEST_CASE(parse_errors_by_code) {
  struct Case {
    const char* schema;
    ErrorCode code;
    const char* names;  // text the message must contain
  };
  const Case cases[] = {
      {R"({"fields":{"age":{"type":"integer"}}})", ErrorCode::BadValue, "integer"},
      {R"({"fields":{"age":"integer"}})", ErrorCode::BadValue, "age"},
      {R"({"fields":{"age":{"type":"int","minimum":0}}})", ErrorCode::BadValue, "minimum"},
      {R"({"fields":{"age":{"type":5}}})", ErrorCode::TypeMismatch, "age"},
      {R"({"fields":{"age":5}})", ErrorCode::TypeMismatch, "age"},
      {R"({"fields":{"code":{"type":"string","match":"(a"}}})", ErrorCode::BadValue, "code"},
      {R"({"fields":{"n":{"type":"int","match":"a"}}})", ErrorCode::BadValue, "n"},
      {R"({"fields":{"s":{"type":"string","minLength":-1}}})", ErrorCode::BadValue, "s"},
      {R"({"fields":{"s":{"type":"string","maxLength":"3"}}})", ErrorCode::TypeMismatch, "s"},
      {R"({"fields":{"s":{"type":"string","required":"yes"}}})", ErrorCode::TypeMismatch, "s"},
      {R"({"fields":{"s":{"type":"string","enum":"a"}}})", ErrorCode::TypeMismatch, "s"},
      {R"({"fields":{"n":{"type":"int","min":5,"max":1}}})", ErrorCode::BadValue, "n"},
      {R"({"fields":{"$x":"string"}})", ErrorCode::BadValue, "$x"},
      {R"({"fields":{"a..b":"string"}})", ErrorCode::BadValue, "a..b"},
      {R"({"fieldz":{}})", ErrorCode::BadValue, "fieldz"},
      {R"({"strict":"yes"})", ErrorCode::TypeMismatch, "strict"},
      {R"({"fields":[]})", ErrorCode::TypeMismatch, "fields"},
      {R"({"indexes":{}})", ErrorCode::TypeMismatch, "indexes"},
      {R"({"indexes":[{"fields":{"a":2}}]})", ErrorCode::BadValue, "'a'"},
      {R"({"indexes":[{"fields":{"a":"asc"}}]})", ErrorCode::BadValue, "'a'"},
      {R"({"indexes":[{"fields":{}}]})", ErrorCode::BadValue, "indexes[0]"},
      {R"({"indexes":[{"unique":true}]})", ErrorCode::BadValue, "fields"},
      {R"({"indexes":[{"fields":{"a":1},"sparse":true}]})", ErrorCode::BadValue, "sparse"},
      {R"({"indexes":[{"fields":{"a":1,"b":1},"ttlSeconds":60}]})", ErrorCode::BadValue,
       "ttlSeconds"},
      {R"({"indexes":[{"fields":{"a":1}},{"fields":{"a":1},"ttlSeconds":-1}]})",
       ErrorCode::BadValue, "indexes[1]"},
      {R"({"indexes":[{"fields":{"a":1},"ttlSeconds":1.5}]})", ErrorCode::TypeMismatch,
       "ttlSeconds"},
      {R"({"fields":{"a":{"type":"string","index":true}},"indexes":[{"fields":{"a":1},"unique":true}]})",
       ErrorCode::BadValue, "a_1"},
  };
  for (const Case& c : cases) {
    BOOST_TEST(int(parse_code(c.schema)) == int(c.code), c.schema);
    BOOST_TEST(parse_message(c.schema).find(c.names) != std::string::npos,
               c.schema << " -> " << parse_message(c.schema));
  }
  // a schema that is not a map
  std::string arr = J("[1]");
  BOOST_CHECK_THROW(Schema::parse(MpView(arr)), Error);
  // accepted forms: shorthand, ±1 as float, ttl on a single field, every option together
  BOOST_TEST(int(parse_code(R"({"fields":{"a":"any"},"indexes":[{"fields":{"a":1.0,"b":-1}}]})")) ==
             int(ErrorCode::Ok));
  BOOST_TEST(int(parse_code(R"({"fields":{"t":{"type":"string","required":true,"default":"ab",)"
                            R"("unique":true,"index":false,"minLength":1,"maxLength":5,)"
                            R"("enum":["ab","cd"],"match":"^[a-z]+$"}},"timestamps":false,)"
                            R"("strict":true,"indexes":[]})")) == int(ErrorCode::Ok));
}

BOOST_AUTO_TEST_CASE(validating_a_valid_document_allocates_nothing) {
  auto s =
      S(R"({"fields":{"email":{"type":"string","required":true,"match":"@"},)"
        R"("age":{"type":"int","min":0,"max":150},"status":{"type":"string","enum":["a","b"]},)"
        R"("address.city":{"type":"string","maxLength":50}},"strict":true})");
  std::string doc = J(R"({"_id":"65a1b2c3d4e5f60718293a4b","email":"a@b.c","age":30,"status":"b",)"
                      R"("address":{"city":"Utrecht"}})");
  std::string bad = J(R"({"email":"nobody","age":-1})");
  BOOST_TEST(!s->validate(MpView(bad)).ok());  // failures do allocate
  BOOST_TEST(s->validate(MpView(doc)).ok());   // warm up: RE2 builds its DFA states lazily
  int valid = 0;
  long before = g_allocations.load();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i) valid += s->validate(MpView(doc)).ok();
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  BOOST_TEST(g_allocations.load() - before == 0);
  BOOST_TEST(valid == 100000);
  BOOST_TEST_MESSAGE("100000 validations in " << us << " us");
}
