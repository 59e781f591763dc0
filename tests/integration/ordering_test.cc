// tests/integration/ordering_test.cc — per-model ordering (CONTRACT.md §3: requests to one
// model are applied in arrival order; replies may come in any order, matched by `id`):
// 1000 pipelined updates followed, without waiting, by a read that must see all of them;
// $push of a sequence that must come out in order; two models interleaved on one connection;
// a pipelined insert immediately readable.
#define BOOST_TEST_MODULE integration_ordering
#include <set>

#include "tests/integration/harness.h"

using namespace mg::it;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

constexpr int kUpdates = 1000;

Request inc(const std::string& model) {
  return std::move(Request("updateOne", "", model)
                       .arg("filter", J(R"({"_id":"ctr"})"))
                       .arg("update", J(R"({"$inc":{"n":1}})")));
}

Request push(const std::string& model, int i) {
  return std::move(Request("updateOne", "", model)
                       .arg("filter", J(R"({"_id":"seq"})"))
                       .arg("update", J(R"({"$push":{"s":)" + std::to_string(i) +
                                        R"(},"$set":{"last":)" + std::to_string(i) + "}}")));
}

// "[0,1,...,n-1]"
std::string sequence(int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(i);
  return out + "]";
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(pipelined_increments_then_a_read_sees_the_total, OnSharedDaemon) {
  Client p(daemon.req_endpoint(), client_options(20000, 256));
  c.insert_one("", model, J(R"({"_id":"ctr","n":0})"));
  int ok = 0, modified = 0;
  for (int i = 0; i < kUpdates; ++i)
    p.send_async(inc(model), [&](Reply r) {
      ok += r.ok();
      modified += r.ok() && r.get("modifiedCount").as_int() == 1;
    });
  // Sent right behind the updates, not after their replies: it must still see every one.
  std::string seen;
  p.send_async(std::move(Request("findOne", "", model).arg("filter", J(R"({"_id":"ctr"})"))),
               [&](Reply r) { seen = js(r.get("doc")); });
  p.drain();
  BOOST_TEST(ok == kUpdates);
  BOOST_TEST(modified == kUpdates);
  BOOST_TEST(seen == canon(R"({"_id":"ctr","n":1000})"));
  BOOST_TEST(js(*c.find_one("", model)) == canon(R"({"_id":"ctr","n":1000})"));
}

BOOST_FIXTURE_TEST_CASE(pushes_are_applied_in_arrival_order, OnSharedDaemon) {
  Client p(daemon.req_endpoint(), client_options(20000, 512));
  c.insert_one("", model, J(R"({"_id":"seq","s":[]})"));
  int ok = 0;
  for (int i = 0; i < kUpdates; ++i) p.send_async(push(model, i), [&](Reply r) { ok += r.ok(); });
  p.drain();
  BOOST_TEST(ok == kUpdates);
  auto doc = c.find_by_id("", model, J(R"("seq")"));
  BOOST_TEST_REQUIRE(doc.has_value());
  BOOST_TEST(js(MpView(*doc).get("s")) == sequence(kUpdates));
  BOOST_TEST(MpView(*doc).get("last").as_int() == kUpdates - 1);
}

BOOST_FIXTURE_TEST_CASE(two_models_interleaved_each_keep_their_order, OnSharedDaemon) {
  Client p(daemon.req_endpoint(), client_options(20000, 512));
  std::string a = model + "A", b = model + "B";
  c.insert_one("", a, J(R"({"_id":"seq","s":[]})"));
  c.insert_one("", b, J(R"({"_id":"seq","s":[]})"));
  // Replies may come in any order; each is matched by its id, and no id is answered twice.
  int ok = 0, mismatched = 0;
  std::set<int64_t> answered;
  for (int i = 0; i < kUpdates; ++i) {
    for (const std::string* m : {&a, &b}) {
      p.send_async(push(*m, i), [&](Reply r) {
        ok += r.ok();
        mismatched += r.get("matchedCount").as_int() != 1;
        answered.insert(r.get("id").as_int());
      });
    }
  }
  p.drain();
  BOOST_TEST(ok == 2 * kUpdates);
  BOOST_TEST(mismatched == 0);
  BOOST_TEST(answered.size() == size_t(2 * kUpdates));
  for (const std::string& m : {a, b}) {
    auto doc = c.find_by_id("", m, J(R"("seq")"));
    BOOST_TEST_REQUIRE(doc.has_value());
    BOOST_TEST(js(MpView(*doc).get("s")) == sequence(kUpdates), m);
  }
}

BOOST_FIXTURE_TEST_CASE(pipelined_insert_then_read_then_delete, OnSharedDaemon) {
  Client p(daemon.req_endpoint(), client_options(20000, 512));
  std::vector<std::string> found(300), gone(300);
  for (int i = 0; i < 300; ++i) {
    std::string id = std::to_string(i);
    p.send_async(std::move(Request("insertOne", "", model).arg("doc", J(R"({"_id":)" + id + "}"))),
                 [](Reply r) { BOOST_TEST(r.ok(), js(r)); });
    p.send_async(std::move(Request("findById", "", model).arg("_id", J(id))),
                 [&, i](Reply r) { found[i] = js(r.get("doc")); });
    p.send_async(
        std::move(Request("deleteOne", "", model).arg("filter", J(R"({"_id":)" + id + "}"))),
        [](Reply r) { BOOST_TEST(r.get("deletedCount").as_int() == 1, js(r)); });
    p.send_async(std::move(Request("findById", "", model).arg("_id", J(id))),
                 [&, i](Reply r) { gone[i] = js(r.get("doc")); });
  }
  p.drain();
  int wrong = 0;
  for (int i = 0; i < 300; ++i)
    wrong += found[i] != "{\"_id\":" + std::to_string(i) + "}" || gone[i] != "null";
  BOOST_TEST(wrong == 0, "e.g. " << found[0] << " / " << gone[0]);
  BOOST_TEST(c.count("", model) == 0);
}

// Reads answered while more requests wait are handed to the front door in batches: each must
// still carry what it saw at its own place in the sequence, between the writes around it.
BOOST_FIXTURE_TEST_CASE(pipelined_reads_between_writes_see_exactly_the_writes_before_them,
                        OnSharedDaemon) {
  Client p(daemon.req_endpoint(), client_options(20000, 512));
  constexpr int kSteps = 600;
  std::vector<int64_t> counts(kSteps, -1);
  int inserted = 0;
  for (int i = 0; i < kSteps; ++i) {
    // Every third step writes; the two reads after it must count it.
    if (i % 3 == 0)
      p.send_async(std::move(Request("insertOne", "", model)
                                 .arg("doc", J(R"({"_id":)" + std::to_string(i) + "}"))),
                   [&](Reply r) { inserted += r.ok(); });
    p.send_async(std::move(Request("count", "", model).arg("filter", J("{}"))),
                 [&, i](Reply r) { counts[size_t(i)] = r.ok() ? r.get("count").as_int() : -2; });
  }
  p.drain();
  BOOST_TEST(inserted == kSteps / 3);
  int wrong = 0;
  for (int i = 0; i < kSteps; ++i) wrong += counts[size_t(i)] != i / 3 + 1;
  BOOST_TEST(wrong == 0,
             wrong << " reads saw another number of documents than written before them");
}

// The front door hands a model the requests of one read round in one message; a server
// operation read in the same round must not overtake them. dropDatabase sends its drop to the
// models at once: inserts pipelined right before it must all be applied and answered first
// (an insert overtaken by the drop would reach a model actor that had already ended, and never
// be answered).
BOOST_FIXTURE_TEST_CASE(drop_database_sent_behind_pipelined_inserts_answers_them_all,
                        OnSharedDaemon) {
  constexpr int kRounds = 5, kInserts = 400;
  for (int round = 0; round < kRounds; ++round) {
    std::string db = "ord_drop_" + std::to_string(round);
    c.create_database(db, "memory");
    Client p(daemon.req_endpoint(), client_options(20000, 2048));
    int ok = 0, dropped = 0;
    for (int i = 0; i < kInserts; ++i)
      p.send_async(std::move(Request("insertOne", db, model)
                                 .arg("doc", J(R"({"_id":)" + std::to_string(i) + "}"))),
                   [&](Reply r) { ok += r.ok(); });
    p.send_async(Request("dropDatabase", db),
                 [&](Reply r) { dropped += r.ok() && r.get("dropped").as_bool(); });
    p.drain();
    BOOST_TEST(ok == kInserts);
    BOOST_TEST(dropped == 1);
  }
}

// Likewise stats, sent right behind 1000 pipelined inserts, counts all of them.
BOOST_FIXTURE_TEST_CASE(stats_sent_behind_pipelined_inserts_counts_them_all, OnSharedDaemon) {
  Client p(daemon.req_endpoint(), client_options(20000, 2048));
  constexpr int kInserts = 1000;
  int ok = 0;
  for (int i = 0; i < kInserts; ++i)
    p.send_async(
        std::move(
            Request("insertOne", "", model).arg("doc", J(R"({"_id":)" + std::to_string(i) + "}"))),
        [&](Reply r) { ok += r.ok(); });
  int64_t counted = -1;
  p.send_async(Request("stats"), [&](Reply r) {
    MpView m = by_name(by_name(r.get("databases"), "default").get("models"), model);
    if (m.valid()) counted = m.get("count").as_int();
  });
  p.drain();
  BOOST_TEST(ok == kInserts);
  BOOST_TEST(counted == kInserts);
}
