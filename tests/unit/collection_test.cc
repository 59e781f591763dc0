// Collection: writes are all-or-nothing and storage-first, unique indexes hold across batches
// and updates, the planner uses indexes (documents examined are counted), schema changes
// build and drop indexes, TTL expiry, and the defects found in memgoose do not exist here.
#define BOOST_TEST_MODULE collection
#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "core/collection.h"
#include "core/ejson.h"
#include "core/objectid.h"
#include "storage/memory_storage.h"

using namespace mg;

namespace {

std::string J(const char* json) {
  return mp_from_json(json);
}
MpView V(const std::string& s) {
  return MpView(s);
}

// A storage that records what it was told and can be made to fail.
struct RecordingStorage : StorageStrategy {
  std::vector<std::pair<Change::Op, std::string>>* log;
  bool* fail_next;
  RecordingStorage(std::vector<std::pair<Change::Op, std::string>>* l, bool* f)
      : log(l), fail_next(f) {}
  Status open(const std::function<Status(std::string_view)>&) override { return {}; }
  uint64_t last_seq() const override { return 0; }
  Status apply(std::span<const Change> changes) override {
    if (*fail_next) return make_status(ErrorCode::StorageError, "disk full (test)");
    for (auto& c : changes) log->emplace_back(c.op, std::string(c.id));
    return {};
  }
  Status commit() override { return {}; }
  // Recorded as "delete <_id>" / "replace <document>", in order (JSON).
  std::vector<std::string> reconciled;
  uint64_t reconciled_seq = 0;
  Status reconcile(std::span<const Change> changes, uint64_t seq) override {
    reconciled.clear();
    for (auto& c : changes)
      reconciled.push_back(c.op == Change::Op::Delete
                               ? "delete " + json_from_mp(c.id)
                               : std::string(c.op == Change::Op::Replace ? "replace " : "? ") +
                                     json_from_mp(c.doc));
    reconciled_seq = seq;
    return {};
  }
  Status flush() override { return {}; }
  void close() override {}
  Status destroy() override { return {}; }
  StorageStats stats() const override { return {}; }
};

struct Fixture {
  std::vector<std::pair<Change::Op, std::string>> log;
  bool fail_storage = false;
  Collection c{"User", std::make_unique<RecordingStorage>(&log, &fail_storage)};
  std::vector<ChangeEvent> events;

  Fixture() {
    std::string schema = J(R"({"fields":{"email":{"type":"string","unique":true},
      "status":{"type":"string","index":true},"age":{"type":"int","min":0}},
      "indexes":[{"fields":{"city":1,"age":-1}}]})");
    BOOST_REQUIRE(c.open(V(schema)).ok());
  }
  void insert(std::initializer_list<const char*> docs) {
    std::vector<std::string> enc;
    for (auto* d : docs) enc.push_back(J(d));
    std::vector<std::string_view> views(enc.begin(), enc.end());
    auto r = c.insert_many(views, &events);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().message);
  }
  Status insert_status(std::initializer_list<const char*> docs) {
    std::vector<std::string> enc;
    for (auto* d : docs) enc.push_back(J(d));
    std::vector<std::string_view> views(enc.begin(), enc.end());
    return c.insert_many(views, &events).status();
  }
  std::vector<std::string> find(const char* filter, const char* sort = "{}", int64_t skip = 0,
                                int64_t limit = 0, QueryStats* st = nullptr) {
    std::string f = J(filter), s = J(sort);
    auto r = c.find(FindSpec{V(f), V(s), skip, limit}, st);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().message);
    std::vector<std::string> out;
    for (auto& d : r.value()) out.push_back(json_from_mp(d.bytes()));
    return out;
  }
  uint64_t count(const char* filter, QueryStats* st = nullptr) {
    std::string f = J(filter);
    auto r = c.count(V(f), st);
    BOOST_REQUIRE(r.ok());
    return r.value();
  }
  void seed_people() {
    insert({R"({"_id":1,"email":"a@x","status":"active","city":"Oslo","age":30})",
            R"({"_id":2,"email":"b@x","status":"active","city":"Rome","age":40})",
            R"({"_id":3,"email":"c@x","status":"idle","city":"Oslo","age":50})",
            R"({"_id":4,"email":"d@x","status":"gone","city":"Lima","age":20})"});
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(insert_generates_object_id_first_and_reads_back, Fixture) {
  insert({R"({"email":"z@x","n":1.0,"when":{"$date":"2024-01-01T00:00:00.123Z"}})"});
  auto docs = find("{}");
  BOOST_REQUIRE_EQUAL(docs.size(), 1u);
  BOOST_TEST(docs[0].rfind(R"({"_id":")", 0) == 0u);
  BOOST_TEST(docs[0].find(R"("n":1.0,"when":{"$date":"2024-01-01T00:00:00.123Z"})") !=
             std::string::npos);
  BOOST_TEST(c.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(insert_many_is_all_or_nothing, Fixture) {
  seed_people();
  // a duplicate of a stored email at position 1
  Status s = insert_status({R"({"_id":10,"email":"new@x"})", R"({"_id":11,"email":"a@x"})"});
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(s.index == 1);
  BOOST_TEST(json_from_mp(s.key_value) == R"({"email":"a@x"})");
  BOOST_TEST(json_from_mp(s.key_pattern) == R"({"email":1})");
  BOOST_TEST(count("{}") == 4u);
  BOOST_TEST(count(R"({"email":"new@x"})") == 0u);
  // a duplicate inside the batch
  s = insert_status({R"({"email":"q@x"})", R"({"email":"r@x"})", R"({"email":"q@x"})"});
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(s.index == 2);
  // a schema failure in the middle
  s = insert_status({R"({"email":"s@x"})", R"({"email":"t@x","age":-1})"});
  BOOST_TEST(int(s.code) == int(ErrorCode::DocumentValidationFailure));
  BOOST_TEST(s.index == 1);
  // duplicate _id inside the batch
  s = insert_status({R"({"_id":7})", R"({"_id":7.0})"});
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(count("{}") == 4u);
  BOOST_TEST(log.size() == 4u);  // storage only saw the first good batch
}

// insertMany indexes a batch before it knows the batch is good (the unique check is the
// insertion's own descent): a refused batch must leave no entry behind in any index — counts
// on the indexes (which read no document) stay 0, the unique values can be used again, and the
// freed slots serve the next batch.
BOOST_FIXTURE_TEST_CASE(refused_batch_leaves_no_index_entry, Fixture) {
  seed_people();
  const char* a = R"({"_id":20,"email":"n1@x","status":"fresh","city":"Kyiv","age":31})";
  const char* b = R"({"_id":21,"email":"n2@x","status":"fresh","city":"Kyiv","age":32})";
  // duplicate on the second unique index (email) at position 2, after two good documents
  Status s = insert_status({a, b, R"({"_id":22,"email":"a@x","status":"fresh"})"});
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(s.index == 2);
  // duplicate _id of a document earlier in the same batch
  s = insert_status({a, b, R"({"_id":20,"email":"n3@x"})"});
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(s.index == 2);
  // the storage refuses the whole batch
  fail_storage = true;
  BOOST_TEST(int(insert_status({a, b}).code) == int(ErrorCode::StorageError));
  fail_storage = false;
  QueryStats st;
  BOOST_TEST(count(R"({"status":"fresh"})", &st) == 0u);
  BOOST_TEST(st.docs_examined == 0u);
  BOOST_TEST(count(R"({"city":"Kyiv","age":{"$gte":30}})") == 0u);
  BOOST_TEST(count(R"({"email":{"$in":["n1@x","n2@x","n3@x"]}})") == 0u);
  BOOST_TEST(count(R"({"_id":{"$in":[20,21,22]}})") == 0u);
  BOOST_TEST(c.size() == 4u);
  BOOST_TEST(events.size() == 4u);
  // the same documents go in afterwards, and are found through every index
  insert({a, b});
  BOOST_TEST(count(R"({"status":"fresh"})") == 2u);
  BOOST_TEST(count(R"({"city":"Kyiv","age":{"$gte":32}})") == 1u);
  BOOST_TEST(find(R"({"email":"n2@x"})").size() == 1u);
  BOOST_TEST(c.size() == 6u);
}

BOOST_FIXTURE_TEST_CASE(bad_documents_are_refused_with_codes, Fixture) {
  BOOST_TEST(int(insert_status({R"({"$bad":1})"}).code) == int(ErrorCode::BadValue));
  BOOST_TEST(int(insert_status({R"({"a.b":1})"}).code) == int(ErrorCode::BadValue));
  BOOST_TEST(int(insert_status({R"({"_id":null})"}).code) == int(ErrorCode::BadValue));
  BOOST_TEST(int(insert_status({R"({"_id":[1]})"}).code) == int(ErrorCode::BadValue));
  std::string big = "{\"s\":\"" + std::string(17 << 20, 'x') + "\"}";
  BOOST_TEST(int(insert_status({big.c_str()}).code) == int(ErrorCode::DocumentTooLarge));
  BOOST_TEST(c.size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(lookups_use_indexes, Fixture) {
  for (int i = 0; i < 200; ++i) {
    std::string d = R"({"email":"u)" + std::to_string(i) + R"(@x","status":")" +
                    (i % 4 == 0 ? "active" : "idle") + R"(","city":"C)" + std::to_string(i % 10) +
                    R"(","age":)" + std::to_string(i % 50) + "}";
    insert({d.c_str()});
  }
  QueryStats st;
  BOOST_TEST(find(R"({"email":"u42@x"})", "{}", 0, 0, &st).size() == 1u);
  BOOST_TEST(st.plan == "IXSCAN email_1");
  BOOST_TEST(st.docs_examined == 1u);
  st = {};
  BOOST_TEST(count(R"({"status":"active"})", &st) == 50u);
  BOOST_TEST(st.plan == "COUNT_SCAN status_1");
  BOOST_TEST(st.docs_examined == 0u);
  st = {};
  BOOST_TEST(find(R"({"city":"C3","age":{"$gte":10,"$lt":30}})", "{}", 0, 0, &st).size() == 8u);
  BOOST_TEST(st.plan == "IXSCAN city_1_age_-1");
  BOOST_TEST(st.docs_examined == 8u);
  st = {};
  BOOST_TEST(find(R"({"status":{"$in":["active","nope"]},"age":0})", "{}", 0, 0, &st).size() == 2u);
  BOOST_TEST(st.docs_examined == 50u);
  st = {};
  BOOST_TEST(find(R"({"name":"none"})", "{}", 0, 0, &st).empty());
  BOOST_TEST(st.plan == "COLLSCAN");
  BOOST_TEST(st.docs_examined == 200u);
}

// The point-lookup fast path ({field: scalar} on a unique index) keeps MongoDB's semantics:
// array elements match, numbers compare by value, 1 or 0 documents, skip applies, a bad sort
// is still refused, and other shapes go through the planner.
BOOST_FIXTURE_TEST_CASE(point_lookups_on_unique_indexes, Fixture) {
  std::string loose = J(R"({"fields":{"email":{"unique":true}}})");  // arrays allowed
  BOOST_REQUIRE(c.set_schema(V(loose)).ok());
  insert({R"({"_id":1,"email":"a@x"})", R"({"_id":2.5,"email":["b@x","c@x"]})",
          R"({"_id":"s","email":"d@x"})"});
  QueryStats st;
  auto r = find(R"({"email":"c@x"})", "{}", 0, 0, &st);
  BOOST_REQUIRE(r.size() == 1u);
  BOOST_TEST(r[0].find(R"("_id":2.5)") != std::string::npos);
  BOOST_TEST(st.plan == "IXSCAN email_1");
  BOOST_TEST(st.docs_examined == 1u);
  BOOST_TEST(find(R"({"_id":1.0})").size() == 1u);  // 1.0 == 1
  BOOST_TEST(find(R"({"_id":2.5})").size() == 1u);
  BOOST_TEST(find(R"({"_id":"s"})").size() == 1u);
  st = {};
  BOOST_TEST(find(R"({"email":"zz@x"})", "{}", 0, 0, &st).empty());
  BOOST_TEST(st.docs_examined == 0u);
  BOOST_TEST(find(R"({"email":"a@x"})", "{}", 1, 0).empty());  // skip 1 of 1
  std::string f = J(R"({"email":"a@x"})"), bad = J(R"({"email":"up"})");
  BOOST_TEST((c.find(FindSpec{V(f), V(bad), 0, 1}).status().code == ErrorCode::BadValue));
  // Not a point lookup: whole-array equality and operators still go through the matcher.
  BOOST_TEST(find(R"({"email":["b@x","c@x"]})").size() == 1u);
  BOOST_TEST(find(R"({"email":{"$in":["a@x","d@x"]}})").size() == 2u);
  // After a delete and an update the old keys find nothing.
  std::string del = J(R"({"email":"a@x"})");
  BOOST_REQUIRE(c.remove(V(del), false, &events).ok());
  BOOST_TEST(find(R"({"email":"a@x"})").empty());
}

// Non-unique indexes keep one key with a list of slots: scans in both directions, counts
// after deletes and updates, and keys that disappear when their last document goes.
BOOST_FIXTURE_TEST_CASE(non_unique_index_postings_follow_writes, Fixture) {
  for (int i = 0; i < 100; ++i) {
    std::string d = R"({"_id":)" + std::to_string(i) + R"(,"email":"e)" + std::to_string(i) +
                    R"(","status":")" + (i % 2 ? "odd" : "even") + R"(","city":"C","age":)" +
                    std::to_string(i % 3) + "}";
    insert({d.c_str()});
  }
  BOOST_TEST(count(R"({"status":"odd"})") == 50u);
  auto asc = find(R"({"status":"even"})", R"({"status":1})");
  auto desc = find(R"({"status":"even"})", R"({"status":-1})");
  BOOST_REQUIRE(asc.size() == 50u);
  BOOST_TEST(desc.size() == 50u);
  std::string f = J(R"({"status":"odd"})"), u = J(R"({"$set":{"status":"even"}})");
  BOOST_REQUIRE(c.update(V(f), V(u), false, true, &events).ok());
  BOOST_TEST(count(R"({"status":"odd"})") == 0u);
  BOOST_TEST(count(R"({"status":"even"})") == 100u);
  BOOST_TEST(find(R"({"status":"odd"})").empty());
  QueryStats st;
  BOOST_TEST(count(R"({"city":"C","age":2})", &st) == 33u);
  BOOST_TEST(st.plan == "COUNT_SCAN city_1_age_-1");
  std::string g = J(R"({"age":{"$lt":2}})");
  BOOST_REQUIRE(c.remove(V(g), true, &events).ok());
  BOOST_TEST(count(R"({"city":"C","age":1})") == 0u);
  BOOST_TEST(count(R"({"city":"C","age":2})") == 33u);
  BOOST_TEST(count(R"({"status":"even"})") == 33u);
}

// The in-batch duplicate check hashes keys by value: the same short string sent as str8 (a
// foreign client's encoding) and as fixstr is one key.
BOOST_FIXTURE_TEST_CASE(batch_duplicates_found_across_string_encodings, Fixture) {
  std::string fix = std::string(
      "\x82\xa3_id\xa1q\xa5"
      "email\xa1"
      "a",
      15);
  std::string str8 = std::string(
      "\x82\xa3_id\xd9\x01q\xa5"
      "email\xa1"
      "b",
      16);
  std::vector<std::string_view> views{fix, str8};
  Status s = c.insert_many(views, &events).status();
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(s.index == 1);
  BOOST_TEST(json_from_mp(s.key_pattern) == R"({"_id":1})");
  BOOST_TEST(count("{}") == 0u);
}

BOOST_FIXTURE_TEST_CASE(update_leaves_no_stale_index_entry, Fixture) {
  seed_people();
  std::string f = J(R"({"_id":1})"), u = J(R"({"$set":{"email":"new@x","status":"idle"}})");
  auto r = c.update(V(f), V(u), false, false, &events);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->matched == 1u);
  BOOST_TEST(r->modified == 1u);
  BOOST_TEST(find(R"({"email":"a@x"})").empty());  // old value finds nothing
  BOOST_TEST(find(R"({"email":"new@x"})").size() == 1u);
  BOOST_TEST(count(R"({"status":"active"})") == 1u);
  insert({R"({"email":"a@x"})"});  // the old unique value can be reused
  BOOST_TEST(count(R"({"email":"a@x"})") == 1u);
}

BOOST_FIXTURE_TEST_CASE(update_one_and_delete_one_touch_one, Fixture) {
  seed_people();
  std::string f = J(R"({"status":"active"})"), u = J(R"({"$inc":{"age":1}})");
  auto r = c.update(V(f), V(u), false, false, &events);
  BOOST_TEST(r->matched == 1u);
  BOOST_TEST(count(R"({"age":{"$in":[31,41]}})") == 1u);
  auto many = c.update(V(f), V(u), false, true, &events);
  BOOST_TEST(many->modified == 2u);
  auto d = c.remove(V(f), false, &events);
  BOOST_TEST(d.value() == 1u);
  BOOST_TEST(count(R"({"status":"active"})") == 1u);
  auto all = c.remove(V(J("{}")), true, &events);
  BOOST_TEST(all.value() == 3u);
  BOOST_TEST(c.size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(update_errors_change_nothing, Fixture) {
  seed_people();
  auto before = find("{}");
  std::string all = J("{}");
  // unique violation across a multi update: both become the same email
  std::string u = J(R"({"$set":{"email":"same@x"}})");
  auto r = c.update(V(all), V(u), false, true, &events);
  BOOST_TEST(int(r.status().code) == int(ErrorCode::DuplicateKey));
  // schema violation on the 3rd document
  u = J(R"({"$inc":{"age":-45}})");
  r = c.update(V(all), V(u), false, true, &events);
  BOOST_TEST(int(r.status().code) == int(ErrorCode::DocumentValidationFailure));
  // _id is immutable
  u = J(R"({"$set":{"_id":99}})");
  r = c.update(V(all), V(u), false, false, &events);
  BOOST_TEST(int(r.status().code) == int(ErrorCode::ImmutableField));
  // no operators
  u = J(R"({"age":1})");
  r = c.update(V(all), V(u), false, false, &events);
  BOOST_TEST(int(r.status().code) == int(ErrorCode::BadValue));
  BOOST_TEST(find("{}") == before);
  BOOST_TEST(events.size() == 4u);  // only the seed inserts
}

BOOST_FIXTURE_TEST_CASE(storage_failure_changes_nothing, Fixture) {
  seed_people();
  fail_storage = true;
  auto before = find("{}");
  BOOST_TEST(int(insert_status({R"({"email":"x@x"})"}).code) == int(ErrorCode::StorageError));
  std::string f = J(R"({"_id":1})"), u = J(R"({"$set":{"email":"changed@x"}})");
  BOOST_TEST(int(c.update(V(f), V(u), false, false, &events).status().code) ==
             int(ErrorCode::StorageError));
  BOOST_TEST(int(c.remove(V(f), true, &events).status().code) == int(ErrorCode::StorageError));
  BOOST_TEST(find("{}") == before);
  BOOST_TEST(find(R"({"email":"changed@x"})").empty());
  BOOST_TEST(events.size() == 4u);
  fail_storage = false;
  insert({R"({"email":"x@x"})"});
  BOOST_TEST(c.size() == 5u);
}

BOOST_FIXTURE_TEST_CASE(upsert_seeds_from_filter_equalities, Fixture) {
  std::string f = J(R"({"email":"up@x","city":"Oslo","age":{"$gt":5}})");
  std::string u = J(R"({"$set":{"status":"new"},"$setOnInsert":{"age":6}})");
  auto r = c.update(V(f), V(u), true, false, &events);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(!r->upserted_id.empty());
  auto docs = find(R"({"email":"up@x"})");
  BOOST_REQUIRE_EQUAL(docs.size(), 1u);
  BOOST_TEST(docs[0].find(R"("email":"up@x","city":"Oslo","age":6,"status":"new")") !=
             std::string::npos);
  // second time it matches instead
  r = c.update(V(f), V(u), true, false, &events);
  BOOST_TEST(r->matched == 1u);
  BOOST_TEST(r->upserted_id.empty());
  BOOST_TEST(c.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(replace_keeps_id_and_checks_it, Fixture) {
  seed_people();
  std::string f = J(R"({"_id":2})"), rep = J(R"({"email":"b2@x","city":"Bern"})");
  auto r = c.replace_one(V(f), V(rep), false, &events);
  BOOST_TEST(r->modified == 1u);
  BOOST_TEST(find(R"({"_id":2})")[0] == R"({"_id":2,"email":"b2@x","city":"Bern"})");
  std::string bad = J(R"({"_id":3,"email":"zz@x"})");
  BOOST_TEST(int(c.replace_one(V(f), V(bad), false, &events).status().code) ==
             int(ErrorCode::ImmutableField));
  std::string ops = J(R"({"$set":{"a":1}})");
  BOOST_TEST(int(c.replace_one(V(f), V(ops), false, &events).status().code) ==
             int(ErrorCode::BadValue));
}

BOOST_FIXTURE_TEST_CASE(find_one_and_update_returns_before_or_after, Fixture) {
  seed_people();
  std::string f = J(R"({"city":"Oslo"})"), s = J(R"({"age":-1})"), u = J(R"({"$inc":{"age":1}})");
  auto before = c.find_one_and_update(V(f), V(u), V(s), false, false, &events);
  BOOST_TEST(json_from_mp(before->bytes()).find(R"("age":50)") != std::string::npos);
  auto after = c.find_one_and_update(V(f), V(u), V(s), false, true, &events);
  BOOST_TEST(json_from_mp(after->bytes()).find(R"("age":52)") != std::string::npos);
  auto gone = c.find_one_and_delete(V(f), V(J(R"({"age":1})")), &events);
  BOOST_TEST(json_from_mp(gone->bytes()).find(R"("_id":1)") != std::string::npos);
  BOOST_TEST(count(R"({"city":"Oslo"})") == 1u);
  auto none = c.find_one_and_delete(V(J(R"({"city":"Nowhere"})")), MpView(), &events);
  BOOST_TEST(!none.value());
}

BOOST_FIXTURE_TEST_CASE(sort_skip_limit_and_distinct, Fixture) {
  seed_people();
  auto docs = find("{}", R"({"age":-1})", 1, 2);
  BOOST_REQUIRE_EQUAL(docs.size(), 2u);
  BOOST_TEST(docs[0].find(R"("_id":2)") != std::string::npos);
  BOOST_TEST(docs[1].find(R"("_id":1)") != std::string::npos);
  std::string f = J("{}");
  BOOST_TEST(int(c.find(FindSpec{V(f), MpView(), -1, 0}).status().code) ==
             int(ErrorCode::BadValue));
  insert({R"({"email":"t@x","city":["Oslo","Bergen"]})"});
  auto d = c.distinct("city", V(f));
  BOOST_REQUIRE(d.ok());
  std::string joined;
  for (auto& v : d.value()) joined += json_from_mp(v) + " ";
  BOOST_TEST(joined == R"("Bergen" "Lima" "Oslo" "Rome" )");
}

BOOST_FIXTURE_TEST_CASE(schema_change_builds_and_drops_indexes, Fixture) {
  seed_people();
  insert({R"({"email":"e@x","city":"Oslo","age":30})"});
  // a unique index over duplicate city values fails and keeps the old schema
  std::string bad = J(R"({"fields":{"city":{"type":"string","unique":true}}})");
  auto r = c.set_schema(V(bad));
  BOOST_TEST(int(r.status().code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(c.stats().index_count == 4u);
  QueryStats st;
  find(R"({"email":"a@x"})", "{}", 0, 0, &st);
  BOOST_TEST(st.plan == "IXSCAN email_1");
  // a new schema with only an index on age: email index dropped, age built
  std::string next = J(R"({"fields":{"age":{"type":"int","index":true}}})");
  BOOST_TEST(c.set_schema(V(next)).value() == true);
  BOOST_TEST(c.stats().index_count == 2u);
  st = {};
  BOOST_TEST(find(R"({"age":30})", "{}", 0, 0, &st).size() == 2u);
  BOOST_TEST(st.plan == "IXSCAN age_1");
  insert({R"({"email":"a@x"})"});  // email no longer unique
  BOOST_TEST(c.set_schema(V(next)).value() == false);
}

BOOST_FIXTURE_TEST_CASE(ttl_index_expires_old_documents, Fixture) {
  std::string schema = J(R"({"indexes":[{"fields":{"at":1},"ttlSeconds":60}]})");
  BOOST_REQUIRE(c.set_schema(V(schema)).ok());
  insert({R"({"_id":1,"at":{"$date":"2024-01-01T00:00:00Z"}})",
          R"({"_id":2,"at":{"$date":"2024-01-01T00:00:59Z"}})", R"({"_id":3,"at":"not a date"})",
          R"({"_id":4})"});
  Date now;
  BOOST_REQUIRE(parse_iso_date("2024-01-01T00:01:30Z", now));
  events.clear();
  auto n = c.expire(now, &events);
  BOOST_TEST(n.value() == 1u);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(int(events[0].op) == int(ChangeEvent::Op::Delete));
  BOOST_TEST(find("{}").size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(events_carry_growing_seq, Fixture) {
  seed_people();
  std::string f = J(R"({"_id":3})"), u = J(R"({"$set":{"status":"x"}})");
  c.update(V(f), V(u), false, false, &events);
  c.update(V(f), V(u), false, false, &events);  // no change: no event
  c.remove(V(f), false, &events);
  BOOST_REQUIRE_EQUAL(events.size(), 6u);
  for (size_t i = 0; i < events.size(); ++i) BOOST_TEST(events[i].seq == i + 1);
  BOOST_TEST(int(events[4].op) == int(ChangeEvent::Op::Update));
  BOOST_TEST(int(events[5].op) == int(ChangeEvent::Op::Delete));
  BOOST_TEST(!events[5].doc);
  BOOST_TEST(json_from_mp(events[5].id) == "3");
  BOOST_TEST(c.last_seq() == 6u);
}

BOOST_AUTO_TEST_CASE(memory_storage_collection_works) {
  Collection c("M", make_memory_storage());
  BOOST_REQUIRE(c.open().ok());
  std::string d = mp_from_json(R"({"_id":"k","v":1})");
  std::string_view dv = d;
  BOOST_TEST(c.insert_many({&dv, 1}, nullptr).ok());
  auto found = c.find_by_id(MpView(mp_from_json(R"("k")")));
  BOOST_REQUIRE(found.value());
  BOOST_TEST(json_from_mp(found->bytes()) == R"({"_id":"k","v":1})");
  BOOST_TEST(c.storage().last_seq() == 1u);
}

// Generated ObjectIds skip the _id probe only while no client id could equal one: a client id
// in this process's ObjectId space turns the probe back on.
BOOST_AUTO_TEST_CASE(client_id_in_generated_space_is_still_unique) {
  Collection c("M", make_memory_storage());
  BOOST_REQUIRE(c.open().ok());
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string id0 = new_object_id();
    // the next id this process will generate: same second, counter + 1
    std::string next = id0;
    unsigned long counter = std::stoul(id0.substr(18), nullptr, 16) + 1;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06lx", counter & 0xffffff);
    next.replace(18, 6, buf);
    std::string claimed = mp_from_json(("{\"_id\":\"" + next + "\"}").c_str());
    std::string_view cv = claimed;
    BOOST_REQUIRE(c.insert_many({&cv, 1}, nullptr).ok());
    std::string empty = mp_from_json("{}");
    std::string_view ev = empty;
    auto r = c.insert_many({&ev, 1}, nullptr);
    if (r.ok()) {
      // Only possible if the clock moved to the next second in between.
      BOOST_TEST(MpView(r.value()[0]).as_str().substr(0, 8) != next.substr(0, 8));
      continue;
    }
    BOOST_TEST(int(r.status().code) == int(ErrorCode::DuplicateKey));
    std::string idv = mp_from_json(("\"" + next + "\"").c_str());
    BOOST_TEST(json_from_mp(c.find_by_id(MpView(idv)).value().bytes()) == json_from_mp(claimed));
    return;
  }
  BOOST_FAIL("the clock moved on every attempt");
}

// ---- rebuilding the indexes at open (Index::insert_checked) ---------------------------------

namespace {

// A storage whose open() hands over fixed stored documents, as a backend's load does.
struct LoadingStorage : StorageStrategy {
  std::vector<std::string> stored;
  explicit LoadingStorage(std::vector<std::string> docs) : stored(std::move(docs)) {}
  Status open(const std::function<Status(std::string_view)>& sink) override {
    for (auto& d : stored)
      if (Status s = sink(d); !s.ok()) return s;
    return {};
  }
  uint64_t last_seq() const override { return 0; }
  Status apply(std::span<const Change>) override { return {}; }
  Status commit() override { return {}; }
  Status flush() override { return {}; }
  void close() override {}
  Status destroy() override { return {}; }
  StorageStats stats() const override { return {}; }
};

const char* kLoadSchema = R"({"fields":{"email":{"type":"string","unique":true},
  "tags":{"type":"array","unique":true},"status":{"type":"string","index":true}},
  "indexes":[{"fields":{"city":1,"n":-1},"unique":true}]})";

// Opens a collection over `docs` (JSON) with kLoadSchema.
Status open_over(std::vector<const char*> docs, std::unique_ptr<Collection>* out = nullptr) {
  std::vector<std::string> enc;
  for (auto* d : docs) enc.push_back(J(d));
  auto c = std::make_unique<Collection>("M", std::make_unique<LoadingStorage>(std::move(enc)));
  std::string schema = J(kLoadSchema);
  Status s = c->open(V(schema));
  if (out) *out = std::move(c);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(open_rebuilds_every_index_from_stored_documents) {
  std::unique_ptr<Collection> c;
  Status s = open_over({R"({"_id":3,"email":"c","tags":["x","y"],"status":"a","city":"P","n":1})",
                        R"({"_id":1,"email":"a","tags":["z"],"status":"a","city":"P","n":2})",
                        R"({"_id":2,"email":"b","tags":[],"status":"b","city":"Q","n":1})"},
                       &c);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
  BOOST_TEST(c->size() == 3u);
  // Each answered from its index (IXSCAN or COUNT_SCAN of it), with the right count.
  auto count = [&](const char* f, const std::string& index) {
    std::string q = J(f);
    QueryStats st;
    auto r = c->count(V(q), &st);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(st.plan.find(" " + index) != std::string::npos, f << ": " << st.plan);
    return r.value();
  };
  BOOST_TEST(count(R"({"email":"b"})", "email_1") == 1u);
  BOOST_TEST(count(R"({"tags":"y"})", "tags_1") == 1u);
  BOOST_TEST(count(R"({"status":"a"})", "status_1") == 2u);
  BOOST_TEST(count(R"({"city":"P","n":2})", "city_1_n_-1") == 1u);
  std::string id = J("2");
  BOOST_TEST(bool(c->find_by_id(V(id)).value()));
  // The rebuilt unique indexes go on refusing duplicates.
  std::string dup = J(R"({"email":"x","tags":["q","z"]})");
  std::string_view dv = dup;
  auto r = c->insert_many({&dv, 1}, nullptr);
  BOOST_TEST(int(r.status().code) == int(ErrorCode::DuplicateKey));
}

// A file holding duplicate unique keys (corrupt, or edited by hand) does not open, whichever
// unique index it breaks: _id, a single field, an array element (multikey), a compound key.
BOOST_AUTO_TEST_CASE(open_refuses_stored_duplicates_of_every_unique_index) {
  // Every other unique field differs (a missing field is a null key, as in MongoDB).
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{R"({"_id":1,"email":"a","tags":["p"],"city":"P","n":1})",
        R"({"_id":1,"email":"b","tags":["q"],"city":"P","n":2})"},
       "_id_"},
      {{R"({"_id":1,"email":"a","tags":["p"],"city":"P","n":1})",
        R"({"_id":2,"email":"b","tags":["q"],"city":"P","n":2})",
        R"({"_id":0,"email":"a","tags":["r"],"city":"P","n":3})"},
       "email_1"},
      {{R"({"_id":1,"email":"a","tags":["p","q"],"city":"P","n":1})",
        R"({"_id":2,"email":"b","tags":["r","q"],"city":"P","n":2})"},
       "tags_1"},
      {{R"({"_id":1,"email":"a","tags":["p"],"city":"P","n":1})",
        R"({"_id":2,"email":"b","tags":["q"],"city":"P","n":2})",
        R"({"_id":3,"email":"c","tags":["r"],"city":"P","n":1})"},
       "city_1_n_-1"},
  };
  for (auto& [docs, index] : cases) {
    Status s = open_over(docs);
    BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
    BOOST_TEST(s.message.find("violate unique index " + index) != std::string::npos, s.message);
  }
}

// insert_checked: a conflict leaves the index exactly as it was (entries of the document's
// other keys included); without one it is insert().
BOOST_AUTO_TEST_CASE(index_insert_checked_reports_and_undoes_a_conflict) {
  std::string schema = J(R"({"fields":{"tags":{"type":"array","unique":true}},
    "indexes":[{"fields":{"a":1,"b":1},"unique":true},{"fields":{"s":1}}]})");
  auto parsed = Schema::parse(V(schema));
  BOOST_REQUIRE(parsed->indexes().size() == 3u);
  for (const IndexSpec& spec : parsed->indexes()) {
    Index ix(spec);
    IndexKeys keys;
    std::string d0 = J(R"({"tags":["m","n"],"a":1,"b":2,"s":"k"})"),
                d1 = J(R"({"tags":["a","n","z"],"a":1,"b":2,"s":"k"})"),
                d2 = J(R"({"tags":["a","z"],"a":1,"b":3,"s":"k"})");
    ix.keys_of(V(d0), keys);
    BOOST_TEST(!ix.insert_checked(keys, 5).has_value());
    size_t before = ix.entries();
    ix.keys_of(V(d1), keys);
    auto other = ix.insert_checked(keys, 2);  // a lower slot: the conflict is the next entry
    if (!spec.unique) {
      BOOST_TEST(!other.has_value());
      BOOST_TEST(ix.entries() == 2u);
      continue;
    }
    BOOST_TEST(other.value_or(0) == 5u);
    BOOST_TEST(ix.entries() == before);
    ix.keys_of(V(d2), keys);
    BOOST_TEST(!ix.insert_checked(keys, 7).has_value());  // "a" and "z" were taken back out
    BOOST_TEST(ix.entries() == before + keys.keys.size());
    ix.keys_of(V(d1), keys);
    // A higher slot: the conflict is the previous entry ("a" of slot 7 for tags, [1, 2] of
    // slot 5 for the compound index).
    bool compound = spec.fields.size() > 1;
    BOOST_TEST(ix.insert_checked(keys, 9).value_or(0) == (compound ? 5u : 7u));
    BOOST_TEST(ix.entries() == before + (compound ? 1u : 2u));
  }
}

// Group commit: when the storage cannot commit a group, rollback() takes memory back to the last
// mark_committed() — documents in their slots, every index, count, bytes and seq — whatever the
// group did (inserts, an update, a delete whose slot a later insert reused, a clear).
BOOST_FIXTURE_TEST_CASE(rollback_undoes_every_write_since_the_last_commit, Fixture) {
  c.track_undo(true);
  seed_people();
  c.mark_committed();
  const auto before = find("{}");
  const uint64_t seq = c.last_seq();
  const CollectionStats stats = c.stats();
  auto write_group = [&](bool with_clear) {
    insert({R"({"_id":5,"email":"e@x","status":"new","city":"Oslo","age":1})"});
    std::string f = J(R"({"_id":1})"), u = J(R"({"$set":{"email":"a2@x","status":"idle"}})");
    BOOST_REQUIRE(c.update(V(f), V(u), false, false, &events).ok());
    f = J(R"({"_id":2})");
    BOOST_REQUIRE(c.remove(V(f), false, &events).ok());
    insert({R"({"_id":6,"email":"b@x","status":"active","city":"Rome","age":41})"});
    if (with_clear) {
      BOOST_REQUIRE(c.clear(&events).ok());
      insert({R"({"_id":7,"email":"a@x","status":"idle","city":"Oslo","age":9})"});
    }
    BOOST_REQUIRE(c.last_seq() > seq);
  };
  auto& storage = static_cast<RecordingStorage&>(c.storage());
  for (bool with_clear : {false, true}) {
    write_group(with_clear);
    std::vector<std::string> touched;
    for (const std::string& id : c.rollback()) touched.push_back(json_from_mp(id));
    std::sort(touched.begin(), touched.end());
    // Every document the group wrote, deleted or overwrote (all of them after a clear).
    auto want = with_clear ? std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"}
                           : std::vector<std::string>{"1", "2", "5", "6"};
    BOOST_TEST(touched == want, boost::test_tools::per_element());
    BOOST_TEST(find("{}") == before, "documents after rollback (clear: " << with_clear << ")");
    // reconcile_storage: a Delete of each, then memory's version of those memory holds.
    std::vector<std::string> ids;
    for (const std::string& t : touched) ids.push_back(J(t.c_str()));
    BOOST_REQUIRE(c.reconcile_storage(ids).ok());
    BOOST_TEST(storage.reconciled_seq == seq);
    std::vector<std::string> expect;
    for (const std::string& t : touched) expect.push_back("delete " + t);
    for (const std::string& t : touched)
      if (t < "5") expect.push_back("replace " + find(("{\"_id\":" + t + "}").c_str()).at(0));
    BOOST_TEST(storage.reconciled == expect, boost::test_tools::per_element());
    BOOST_TEST(c.last_seq() == seq);
    BOOST_TEST(c.size() == stats.count);
    BOOST_TEST(c.stats().doc_bytes == stats.doc_bytes);
    // Every index holds exactly the old keys.
    BOOST_TEST(count(R"({"email":"a@x"})") == 1u);
    BOOST_TEST(count(R"({"email":"a2@x"})") == 0u);
    BOOST_TEST(count(R"({"email":"b@x"})") == 1u);
    BOOST_TEST(count(R"({"email":"e@x"})") == 0u);
    BOOST_TEST(count(R"({"status":"idle"})") == 1u);
    BOOST_TEST(count(R"({"status":"active"})") == 2u);
    QueryStats qs;
    BOOST_TEST(count(R"({"city":"Oslo","age":{"$gte":0}})", &qs) == 2u);
    BOOST_TEST(qs.plan.find("city_1_age_-1") != std::string::npos, qs.plan);  // the index
  }
  // The unique index lets the rolled-back keys be written again, and still refuses real ones.
  insert({R"({"_id":5,"email":"e@x"})", R"({"_id":6,"email":"a2@x"})"});
  BOOST_TEST(int(insert_status({R"({"_id":8,"email":"b@x"})"}).code) ==
             int(ErrorCode::DuplicateKey));
  BOOST_TEST(c.last_seq() == seq + 2);
  // mark_committed() makes the writes stay.
  c.mark_committed();
  c.rollback();
  BOOST_TEST(count("{}") == 6u);
}

// Pipelined group commit: the writes of group 1 are durable (mark_committed(its mark)) while
// group 2's were applied after it; a rollback then undoes group 2 only, back to group 1's seq.
BOOST_FIXTURE_TEST_CASE(mark_committed_at_a_mark_keeps_the_later_writes_undo, Fixture) {
  c.track_undo(true);
  seed_people();
  c.mark_committed();
  insert({R"({"_id":5,"email":"e@x","status":"new"})"});
  std::string f = J(R"({"_id":1})"), u = J(R"({"$set":{"status":"idle"}})");
  BOOST_REQUIRE(c.update(V(f), V(u), false, false, &events).ok());
  Collection::UndoMark group1 = c.undo_mark();
  const auto after1 = find("{}");
  const uint64_t seq1 = c.last_seq();
  insert({R"({"_id":6,"email":"f@x","status":"new"})"});
  BOOST_REQUIRE(c.update(V(f), V(J(R"({"$set":{"status":"gone"}})")), false, false, &events).ok());
  BOOST_REQUIRE(c.clear(&events).ok());
  insert({R"({"_id":7,"email":"e@x"})"});
  c.mark_committed(group1);  // group 1 landed while group 2 was open
  std::vector<std::string> touched;
  for (const std::string& id : c.rollback()) touched.push_back(json_from_mp(id));
  BOOST_TEST(find("{}") == after1, boost::test_tools::per_element());
  BOOST_TEST(c.last_seq() == seq1);
  BOOST_TEST(count(R"({"status":"new"})") == 1u);  // 5 stays, 6 is gone
  BOOST_TEST(count(R"({"email":"e@x"})") == 1u);
  BOOST_TEST(count(R"({"email":"f@x"})") == 0u);
  // Nothing of group 1 is undone by a second rollback either.
  c.rollback();
  BOOST_TEST(find("{}") == after1, boost::test_tools::per_element());
}
