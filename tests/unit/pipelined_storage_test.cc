// PipelinedStorage (storage/pipelined_storage.h) over a stand-in strategy: a submitted group
// reaches the inner strategy as ONE apply() (the changes' bytes intact, in order) and one
// commit(), on another thread, while the caller goes on; its completion is reported through
// the callback and poll(); a failing group reports the inner error; the synchronous calls wait
// for the group in flight; discard_open() forgets what was not submitted; a document that comes
// with its engine block is shared, not copied.
#define BOOST_TEST_MODULE pipelined_storage
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/pipelined_storage.h"

using namespace mg;

namespace {

struct Inner : StorageStrategy {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;  // commit() waits while set
  bool fail_apply = false, fail_commit = false;
  std::vector<std::vector<std::string>> applied;  // per apply(): "op id doc seq"
  std::vector<const char*> doc_data;              // the last apply()'s documents' addresses
  int commits = 0, flushes = 0;
  std::thread::id thread;

  Status open(const std::function<Status(std::string_view)>&) override { return {}; }
  uint64_t last_seq() const override { return 0; }
  Status apply(std::span<const Change> changes) override {
    thread = std::this_thread::get_id();
    if (fail_apply) return make_status(ErrorCode::StorageError, "apply refused (test)");
    std::vector<std::string> got;
    doc_data.clear();
    for (const Change& c : changes) doc_data.push_back(c.doc.data());
    for (const Change& c : changes)
      got.push_back(std::to_string(int(c.op)) + " " + std::string(c.id) + " " + std::string(c.doc) +
                    " " + std::to_string(c.seq));
    applied.push_back(std::move(got));
    return {};
  }
  Status commit() override {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !hold; });
    ++commits;
    if (fail_commit) return make_status(ErrorCode::StorageError, "EIO (test)");
    return {};
  }
  void release() {
    {
      std::lock_guard lock(mu);
      hold = false;
    }
    cv.notify_all();
  }
  Status flush() override {
    ++flushes;
    return {};
  }
  void close() override {}
  Status destroy() override { return {}; }
  StorageStats stats() const override { return {}; }
};

Change change(Change::Op op, std::string_view id, std::string_view doc, uint64_t seq) {
  Change c;
  c.op = op, c.id = id, c.doc = doc, c.seq = seq;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_group_is_one_apply_and_one_commit_on_the_storage_thread) {
  auto inner = std::make_unique<Inner>();
  Inner* in = inner.get();
  std::atomic<int> notified{0};
  PipelinedStorage p(std::move(inner), [&] { ++notified; });
  PipelinedStorage::Completion c;
  BOOST_TEST(p.submit() == 0u);  // nothing open: nothing submitted
  BOOST_TEST(!p.in_flight());

  {  // the caller's bytes die after apply(): the group owns copies
    std::string id1 = "a", doc1 = "{1}", id2 = "b", doc2 = "{2}";
    Change two[] = {change(Change::Op::Insert, id1, doc1, 1),
                    change(Change::Op::Replace, id2, doc2, 2)};
    BOOST_REQUIRE(p.apply(two).ok());
    std::string id3 = "a";
    Change del = change(Change::Op::Delete, id3, {}, 3);
    BOOST_REQUIRE(p.apply({&del, 1}).ok());
  }
  in->hold = true;
  uint64_t t1 = p.submit();
  BOOST_TEST(t1 != 0u);
  BOOST_TEST(p.in_flight());
  BOOST_TEST(!p.completed());
  BOOST_TEST(!p.poll(c));  // still committing: the caller is not blocked meanwhile
  std::string id4 = "c", doc4 = "{4}";
  Change next = change(Change::Op::Insert, id4, doc4, 4);
  BOOST_REQUIRE(p.apply({&next, 1}).ok());  // the next group opens while the first commits
  in->release();
  p.wait_idle();
  BOOST_TEST(p.completed());  // what the actor asks after each request (land_if_done)
  BOOST_REQUIRE(p.poll(c));
  BOOST_TEST(!p.completed());
  BOOST_TEST(c.ticket == t1);
  BOOST_TEST(c.status.ok());
  BOOST_TEST(!p.in_flight());
  // The callback comes right after the completion is queued (possibly after wait_idle()).
  for (int i = 0; i < 5000 && notified.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BOOST_TEST(notified.load() == 1);
  BOOST_TEST(in->thread != std::this_thread::get_id());
  BOOST_REQUIRE(in->applied.size() == 1u);
  std::vector<std::string> want{"0 a {1} 1", "1 b {2} 2", "2 a  3"};
  BOOST_TEST(in->applied[0] == want, boost::test_tools::per_element());
  BOOST_TEST(in->commits == 1);

  // The synchronous commit() runs the open group right here, and flush() after it.
  BOOST_REQUIRE(p.flush().ok());
  BOOST_REQUIRE(in->applied.size() == 2u);
  BOOST_TEST(in->applied[1].at(0) == "0 c {4} 4");
  BOOST_TEST(in->flushes == 1);
  BOOST_TEST(!p.poll(c));  // not reported through poll()
}

// A document that comes with its engine block (Change::ref) is not copied: the group holds the
// block, which outlives the caller's reference, and the inner strategy sees the block's own
// bytes; an id outside the block is still copied.
BOOST_AUTO_TEST_CASE(a_document_with_its_block_is_shared_not_copied) {
  auto inner = std::make_unique<Inner>();
  Inner* in = inner.get();
  PipelinedStorage p(std::move(inner), nullptr);
  const char* block_bytes = nullptr;
  {
    DocRef doc = DocRef::make("head-{5}-tail");
    block_bytes = doc.bytes().data();
    std::string_view all = doc.bytes();
    Change c = change(Change::Op::Insert, all.substr(0, 4), all.substr(5, 3), 1);
    c.ref = &doc;
    std::string other_id = "x";
    Change d = change(Change::Op::Replace, other_id, all.substr(5, 3), 2);  // id not in it
    d.ref = &doc;
    Change both[] = {c, d};
    BOOST_REQUIRE(p.apply(both).ok());
  }  // the caller's DocRef and id are gone; the group's reference keeps the block
  in->hold = false;
  BOOST_TEST(p.submit() != 0u);
  p.wait_idle();
  PipelinedStorage::Completion done;
  BOOST_REQUIRE(p.poll(done));
  BOOST_TEST(done.status.ok());
  BOOST_REQUIRE(in->applied.size() == 1u);
  std::vector<std::string> want{"0 head {5} 1", "1 x {5} 2"};
  BOOST_TEST(in->applied[0] == want, boost::test_tools::per_element());
  BOOST_TEST((in->doc_data.at(0) == block_bytes + 5));  // the block itself, not a copy
}

BOOST_AUTO_TEST_CASE(a_failing_group_reports_the_storage_error) {
  auto inner = std::make_unique<Inner>();
  Inner* in = inner.get();
  PipelinedStorage p(std::move(inner), nullptr);
  PipelinedStorage::Completion c;
  std::string id = "a", doc = "{}";
  Change ins = change(Change::Op::Insert, id, doc, 1);

  in->fail_commit = true;
  BOOST_REQUIRE(p.apply({&ins, 1}).ok());
  p.submit();
  p.wait_idle();
  BOOST_REQUIRE(p.poll(c));
  BOOST_TEST(int(c.status.code) == int(ErrorCode::StorageError));
  BOOST_TEST(c.status.message == "EIO (test)");

  in->fail_commit = false;
  in->fail_apply = true;  // refused at apply(): not committed at all
  int commits = in->commits;
  BOOST_REQUIRE(p.apply({&ins, 1}).ok());
  p.submit();
  p.wait_idle();
  BOOST_REQUIRE(p.poll(c));
  BOOST_TEST(c.status.message == "apply refused (test)");
  BOOST_TEST(in->commits == commits);

  // discard_open(): what was applied but not submitted never reaches the storage.
  in->fail_apply = false;
  size_t applied = in->applied.size();
  BOOST_REQUIRE(p.apply({&ins, 1}).ok());
  p.discard_open();
  BOOST_TEST(p.submit() == 0u);
  BOOST_REQUIRE(p.commit().ok());
  BOOST_TEST(in->applied.size() == applied);
}
