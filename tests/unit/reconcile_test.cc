// Reconciler (storage/reconcile.h), with a stand-in for the backend's transaction: the intent
// round-trips, a write that fails leaves the reconcile pending and recorded, retry() finishes
// it and removes the record, a fresh Reconciler's recover() finishes a recorded one, and a
// record that is not an intent stops open() with a message naming the file.
#define BOOST_TEST_MODULE reconcile
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/ejson.h"
#include "storage/reconcile.h"
#include "tests/unit/stored_model.h"

using namespace mg;
using mg::testing::TmpDir;

namespace {

// What the backend was asked to write, as text: "delete <_id>", "replace <doc>", "seq N".
struct Backend {
  bool fail = false;
  int calls = 0;
  std::vector<std::string> got;
  Status write(std::span<const Change> changes, uint64_t seq) {
    ++calls;
    if (fail) return make_status(ErrorCode::StorageError, "EIO (test)");
    got.clear();
    for (const Change& c : changes)
      got.push_back(c.op == Change::Op::Delete ? "delete " + json_from_mp(c.id)
                                               : "replace " + json_from_mp(c.doc));
    got.push_back("seq " + std::to_string(seq));
    return Status::OK();
  }
  Reconciler::WriteFn fn() {
    return [this](std::span<const Change> c, uint64_t seq) { return write(c, seq); };
  }
};

struct Changes {
  std::string id1 = mp_from_json("1"), id2 = mp_from_json(R"("b")"),
              doc2 = mp_from_json(R"({"_id":"b","v":{"$date":"2024-01-01T00:00:00Z"}})");
  std::vector<Change> list() const {
    Change d1, d2, r2;
    d1.op = d2.op = Change::Op::Delete;
    d1.id = id1, d2.id = id2;
    r2.op = Change::Op::Replace;
    r2.id = id2, r2.doc = doc2;
    return {d1, d2, r2};
  }
  const std::vector<std::string> text{
      "delete 1", R"(delete "b")",
      R"(replace {"_id":"b","v":{"$date":"2024-01-01T00:00:00.000Z"}})", "seq 7"};
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_intent_round_trips_and_garbage_is_refused) {
  Changes ch;
  std::string bytes = encode_intent(ch.list(), 7);
  std::vector<Change> back;
  uint64_t seq = 0;
  BOOST_REQUIRE(decode_intent(bytes, back, seq).ok());
  BOOST_TEST(seq == 7u);
  BOOST_REQUIRE(back.size() == 3u);
  BOOST_TEST(int(back[2].op) == int(Change::Op::Replace));
  BOOST_TEST(back[1].id == ch.id2);
  BOOST_TEST(back[2].doc == ch.doc2);
  for (std::string bad : {std::string(), std::string("\x92\x01", 2), bytes.substr(0, 10),
                          mp_from_json(R"({"format":2,"seq":1,"changes":[]})"),
                          mp_from_json(R"({"format":1,"seq":1,"changes":[[0,null,null]]})"),
                          mp_from_json(R"({"format":1,"seq":1,"changes":[[2,1,{"_id":1}]]})")})
    BOOST_TEST(!decode_intent(bad, back, seq).ok());
}

BOOST_AUTO_TEST_CASE(a_failed_write_stays_pending_and_recorded_until_a_retry_works) {
  TmpDir dir;
  std::string path = dir.file("M.reconcile");
  Changes ch;
  Backend b;
  Reconciler r(path, "test M", b.fn());
  BOOST_REQUIRE(r.retry().ok());  // nothing pending: the backend is not asked
  BOOST_TEST(b.calls == 0);

  b.fail = true;
  Status s = r.reconcile(ch.list(), 7);
  BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
  BOOST_TEST(s.message.find("writes are refused") != std::string::npos, s.message);
  BOOST_TEST(s.message.find("EIO (test)") != std::string::npos, s.message);
  BOOST_TEST(s.message.find(path) != std::string::npos, s.message);
  BOOST_TEST(r.pending());
  BOOST_TEST(std::filesystem::exists(path));
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"));
  BOOST_TEST(!r.retry().ok());
  BOOST_TEST(b.calls == 2);

  b.fail = false;
  BOOST_REQUIRE(r.retry().ok());
  BOOST_TEST(b.got == ch.text, boost::test_tools::per_element());
  BOOST_TEST(!r.pending());
  BOOST_TEST(!std::filesystem::exists(path));
  BOOST_REQUIRE(r.retry().ok());
  BOOST_TEST(b.calls == 3);

  // Done at once: nothing stays behind.
  BOOST_REQUIRE(r.reconcile(ch.list(), 7).ok());
  BOOST_TEST(!r.pending());
  BOOST_TEST(!std::filesystem::exists(path));
}

// A second failed group while the first reconcile is still pending (a pipelined commit: the
// next group's apply() retried and was refused): both groups' documents are written back,
// every Delete first, a document both touched in its newest version, and the file holds both.
BOOST_AUTO_TEST_CASE(a_second_reconcile_merges_with_the_pending_one) {
  TmpDir dir;
  std::string path = dir.file("M.reconcile");
  Changes ch;
  Backend b;
  Reconciler r(path, "test M", b.fn());
  b.fail = true;
  BOOST_TEST(!r.reconcile(ch.list(), 7).ok());
  // The second group touched "b" again (memory now holds v 2) and a new document 3 (absent).
  std::string id3 = mp_from_json("3"), doc2b = mp_from_json(R"({"_id":"b","v":2})");
  Change d2, d3, r2;
  d2.op = d3.op = Change::Op::Delete;
  d2.id = ch.id2, d3.id = id3;
  r2.op = Change::Op::Replace;
  r2.id = ch.id2, r2.doc = doc2b;
  std::vector<Change> second{d2, d3, r2};
  BOOST_TEST(!r.reconcile(second, 9).ok());
  std::vector<std::string> want{"delete 1", R"(delete "b")", "delete 3",
                                R"(replace {"_id":"b","v":2})", "seq 9"};
  // What a restart would find: the recorded intent holds the merge.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Change> recorded;
  uint64_t seq = 0;
  BOOST_REQUIRE(decode_intent(bytes, recorded, seq).ok());
  BOOST_TEST(recorded.size() == 4u);
  BOOST_TEST(seq == 9u);
  b.fail = false;
  BOOST_REQUIRE(r.retry().ok());
  BOOST_TEST(b.got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(recover_finishes_a_recorded_reconcile_and_names_a_bad_record) {
  TmpDir dir;
  std::string path = dir.file("M.reconcile");
  Changes ch;
  {
    Backend b;
    b.fail = true;
    Reconciler r(path, "test M", b.fn());
    BOOST_REQUIRE(!r.reconcile(ch.list(), 7).ok());
  }  // the process ends with it pending
  std::ofstream(path + ".tmp") << "a torn temporary";
  Backend b;
  Reconciler r(path, "test M", b.fn());
  BOOST_REQUIRE(r.recover().ok());
  BOOST_TEST(b.got == ch.text, boost::test_tools::per_element());
  BOOST_TEST(!std::filesystem::exists(path));
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"));
  BOOST_REQUIRE(r.recover().ok());  // nothing recorded: nothing to do
  BOOST_TEST(b.calls == 1);

  // Recorded, but the backend still cannot write it: open() must fail (loading would bring
  // back what the record undoes), and the record stays for the next attempt.
  std::ofstream(path, std::ios::binary) << encode_intent(ch.list(), 7);
  b.fail = true;
  Status s = r.recover();
  BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
  BOOST_TEST(s.message.find(path) != std::string::npos, s.message);
  BOOST_TEST(std::filesystem::exists(path));

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not msgpack at all";
  s = r.recover();
  BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
  BOOST_TEST(s.message.find(path) != std::string::npos, s.message);
  BOOST_TEST(s.message.find("not a reconcile intent") != std::string::npos, s.message);
}
