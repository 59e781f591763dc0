// tests/integration/disk_full_test.cc — a full disk and I/O errors under the real daemon, for
// every persistent backend/mode (CONTRACT.md §6 StorageError; issue 5 item 6, issue 9 item 2).
// The unit tests (file_storage_test, sqlite_storage_test) check each strategy on its own; here
// the whole path is checked end to end: memgoosed runs on a data dir that fills up (or fails),
// and
//   - a write that needs the disk is refused with StorageError (1001) and nothing of it is
//     applied (an insertOne, an insertMany, an update: the document keeps its old value; the
//     unique index on `k` keeps no entry of a refused document; no change event, and the
//     model's lastSeq does not move);
//   - reads go on answering, with exactly the acknowledged data;
//   - the daemon stays up, and writes succeed again once there is space;
//   - after SIGKILL and restart, and after a clean stop and restart, the data is exactly every
//     acknowledged write (the partial writes left behind by the failures corrupt nothing, and
//     refused writes never retried do not come back).
// Three ways to make the disk fail:
//   - tmpfs: the data dir is a small tmpfs (needs CAP_SYS_ADMIN; the test process first moves
//     into a private mount namespace so that no mount outlives it), filled by a filler file
//     until ENOSPC; space returns when the filler is removed.
//   - fsize: RLIMIT_FSIZE set on the running daemon with prlimit (works unprivileged; writes
//     past the limit fail with EFBIG, and SIGXFSZ must not kill the daemon); space returns when
//     the limit is lifted.
//   - eio: the daemon runs with eio_inject.cc preloaded, and every write and fsync under the
//     data dir fails with EIO while a trigger file exists (no device-mapper needed); the disk
//     "heals" when the trigger is removed.
// wiredtiger: its cases run when `hello` lists it (crash::persistent_modes), with no change here.
#define BOOST_TEST_MODULE integration_disk_full
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/crash/crash_run.h"
#include "tests/integration/harness.h"

using namespace mg::it;
namespace fs = std::filesystem;

namespace {

constexpr int kStorageError = 1001;

// Before any thread exists: a private mount namespace, so that the tmpfs mounts of this
// process vanish with it even if it crashes. Without the privilege, mounts are not tried.
bool g_can_mount = false;
struct MountNamespace {
  MountNamespace() {
    if (::unshare(CLONE_NEWNS) != 0) return;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return;
    g_can_mount = true;
  }
};
BOOST_TEST_GLOBAL_FIXTURE(MountNamespace);

// How the disk is made full and given space again.
class Squeeze {
 public:
  virtual ~Squeeze() = default;
  virtual void before_start(DaemonProcess&) {}
  virtual void fill(DaemonProcess&) = 0;
  virtual void release(DaemonProcess&) = 0;
  virtual void after_stop(DaemonProcess&) {}
};

class TmpfsSqueeze : public Squeeze {
 public:
  void before_start(DaemonProcess& d) override {
    fs::create_directories(d.data_dir());
    BOOST_REQUIRE_MESSAGE(
        ::mount("tmpfs", d.data_dir().c_str(), "tmpfs", 0, "size=16m,mode=0755") == 0,
        "mount tmpfs: " << std::strerror(errno));
    mounted_ = d.data_dir();
  }
  void fill(DaemonProcess& d) override {
    filler_ = d.data_dir() + "/filler";
    int fd = ::open(filler_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    std::string chunk(1 << 16, 'f');
    ssize_t w = 0;
    for (size_t n : {chunk.size(), size_t(4096), size_t(1)}) {
      do {
        w = ::write(fd, chunk.data(), n);
      } while (w > 0);
    }
    BOOST_REQUIRE_MESSAGE(w < 0 && errno == ENOSPC, "filling the tmpfs: " << std::strerror(errno));
    ::close(fd);
  }
  void release(DaemonProcess&) override { BOOST_REQUIRE(::unlink(filler_.c_str()) == 0); }
  void after_stop(DaemonProcess&) override {
    if (!mounted_.empty()) ::umount2(mounted_.c_str(), MNT_DETACH);
  }
  ~TmpfsSqueeze() override {
    if (!mounted_.empty()) ::umount2(mounted_.c_str(), MNT_DETACH);
  }

 private:
  std::string mounted_, filler_;
};

class FsizeSqueeze : public Squeeze {
 public:
  void fill(DaemonProcess& d) override {
    // No file may grow past the biggest one there is now.
    uintmax_t biggest = 0;
    for (auto& e : fs::recursive_directory_iterator(d.data_dir()))
      if (e.is_regular_file()) biggest = std::max(biggest, e.file_size());
    set(d, rlim_t(biggest));
  }
  void release(DaemonProcess& d) override { set(d, RLIM_INFINITY); }

 private:
  static void set(DaemonProcess& d, rlim_t cur) {
    struct rlimit lim {
      cur, RLIM_INFINITY
    };
    BOOST_REQUIRE_MESSAGE(::prlimit(d.pid(), RLIMIT_FSIZE, &lim, nullptr) == 0,
                          "prlimit: " << std::strerror(errno));
  }
};

class EioSqueeze : public Squeeze {
 public:
  // sync_only: only fsync and fdatasync fail (MG_EIO_OPS=sync), the writes before them work.
  explicit EioSqueeze(bool sync_only = false) : sync_only_(sync_only) {}
  void before_start(DaemonProcess& d) override {
    fs::create_directories(d.data_dir());
    trigger_ = d.dir() + "/eio-now";
    d.extra_env().push_back(std::string("LD_PRELOAD=") + EIO_INJECT_PATH);
    d.extra_env().push_back("MG_EIO_DIR=" + fs::canonical(d.data_dir()).string());
    d.extra_env().push_back("MG_EIO_TRIGGER=" + trigger_);
    if (sync_only_) d.extra_env().push_back("MG_EIO_OPS=sync");
    // An ASan build of the daemon (GCC links libasan dynamically) refuses a preloaded library
    // ahead of its runtime unless told this order is fine.
    const char* asan = std::getenv("ASAN_OPTIONS");
    d.extra_env().push_back(std::string("ASAN_OPTIONS=") + (asan ? asan : "") +
                            (asan && *asan ? ":" : "") + "verify_asan_link_order=0");
  }
  void fill(DaemonProcess&) override {
    int fd = ::open(trigger_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    ::close(fd);
  }
  void release(DaemonProcess&) override { BOOST_REQUIRE(::unlink(trigger_.c_str()) == 0); }

 private:
  bool sync_only_;
  std::string trigger_;
};

// `k` (uniquely indexed) mirrors the _id, so a stale index entry would refuse a retry.
std::string doc(int64_t id, int64_t v, size_t pad) {
  return J(R"({"_id":)" + std::to_string(id) + R"(,"k":)" + std::to_string(id) + R"(,"v":)" +
           std::to_string(v) + R"(,"pad":")" + std::string(pad, 'p') + R"("})");
}

using State = std::map<int64_t, int64_t>;  // _id -> v

State read_state(Client& c, const std::string& db) {
  State s;
  for (auto& d : c.find(db, "M")) {
    MpView v(d);
    s[v.get("_id").as_int()] = v.get("v").as_int();
  }
  return s;
}

// Inserts documents 1..20 (v 0, `pad` bytes) into db.M, notes them in `expect`, makes them
// durable, and returns M's seq.
int64_t seed_twenty(Client& c, const std::string& db, State& expect, size_t pad) {
  for (int64_t id = 1; id <= 20; ++id) {
    c.insert_one(db, "M", doc(id, 0, pad));
    expect[id] = 0;
  }
  c.flush(db);
  return c.changes(db, "M", 0).last_seq;
}

void expect_refused(const Reply& r, const char* what, DaemonProcess& d) {
  BOOST_TEST(!r.ok(), what << " was accepted on a full disk");
  if (!r.ok())
    BOOST_TEST(r.error().code() == kStorageError, what << ": " << js(r) << "\n" << d.log());
}

void disk_full_on(DaemonProcess& d, const std::string& mode_name, Squeeze& squeeze);

void disk_full(const std::string& mode_name, Squeeze& squeeze) {
  DaemonOptions o;
  o.start = false;
  DaemonProcess d(o);
  squeeze.before_start(d);
  try {
    disk_full_on(d, mode_name, squeeze);
  } catch (const std::exception& e) {  // a client timeout: show what the daemon said
    BOOST_ERROR(e.what() << "\ndaemon " << (d.running() ? "running" : "exited") << ", log:\n"
                         << d.log());
  }
  if (d.running()) d.kill();
  squeeze.after_stop(d);
}

void disk_full_on(DaemonProcess& d, const std::string& mode_name, Squeeze& squeeze) {
  d.start();
  Client c(d.req_endpoint(), client_options(5000));  // a daemon that died shows up sooner
  mg::crash::Mode mode = mg::crash::find_mode(c, mode_name);
  std::string db = "full";
  c.create_database(db, mode.storage, J(mode.options));
  c.define_model(db, "M", J(R"({"fields":{"k":{"type":"number","unique":true}}})"));
  State expect;
  int64_t seq = seed_twenty(c, db, expect, 1000);

  squeeze.fill(d);
  // Write until the disk says no: some writes may still fit (pages, a reused WAL).
  const size_t big = 32 << 10;
  int64_t refused = 0;
  for (int64_t id = 1000; id < 3000 && !refused; ++id) {
    Reply r = c.call(std::move(Request("insertOne", db, "M").arg("doc", doc(id, 1, big))));
    if (r.ok())
      expect[id] = 1, ++seq;
    else if (r.error().code() == kStorageError)
      refused = id, BOOST_TEST_MESSAGE("refused: " << js(r));
    else
      BOOST_FAIL("insertOne: " << js(r));
  }
  BOOST_REQUIRE_MESSAGE(refused, "2000 inserts of 32 KiB never filled the disk");
  BOOST_TEST(!c.find_by_id(db, "M", J(std::to_string(refused))), "the refused insert is there");
  BOOST_TEST(c.find(db, "M", find_args(J(R"({"k":)" + std::to_string(refused) + "}"))).empty(),
             "the refused insert is in the index on k");
  std::vector<std::string> batch = {doc(5000, 2, big), doc(5001, 2, big), doc(5002, 2, big)};
  expect_refused(c.call(std::move(Request("insertMany", db, "M").arg_array("docs", batch))),
                 "insertMany", d);
  expect_refused(c.call(std::move(Request("updateOne", db, "M")
                                      .arg("filter", J(R"({"_id":1})"))
                                      .arg("update", J(R"({"$set":{"v":3,"pad":")" +
                                                       std::string(big, 'q') + "\"}}")))),
                 "updateOne", d);
  // Refused and never retried: none of these may appear, now or after a restart.
  expect_refused(c.call(std::move(Request("insertOne", db, "M").arg("doc", doc(7000, 7, big)))),
                 "insertOne", d);
  expect_refused(c.call(std::move(Request("updateOne", db, "M")
                                      .arg("filter", J(R"({"_id":2})"))
                                      .arg("update", J(R"({"$set":{"v":9,"pad":")" +
                                                       std::string(big, 'r') + "\"}}")))),
                 "updateOne", d);
  // Reads pipelined behind a refused write wait for its group commit with it (they may have
  // seen it); when the group is rolled back they are answered again, without it.
  int64_t pipelined_refused = 0, reads = 0, reads_seeing_it = 0;
  // A batch big enough to take the model a while: the reads are in its mailbox by then.
  std::vector<std::string> slow;
  for (int64_t id = 8000; id < 9000; ++id) slow.push_back(doc(id, 8, 200));
  c.insert_many_async(db, "M", slow, [&](Reply r) {
    pipelined_refused += !r.ok() && r.error().code() == kStorageError;
  });
  for (int i = 0; i < 16; ++i)
    c.send_async(std::move(Request("count", db, "M").arg("filter", J(R"({"k":{"$gte":8000}})"))),
                 [&](Reply r) {
                   ++reads;
                   if (!r.ok() || r.get("count").as_int() != 0) ++reads_seeing_it;
                 });
  c.drain();
  BOOST_TEST(pipelined_refused == 1);
  BOOST_TEST(reads == 16);
  BOOST_TEST(reads_seeing_it == 0, "reads answered with a rolled-back write");
  // Reads go on, with exactly what was acknowledged; no event of a refused write.
  BOOST_TEST((read_state(c, db) == expect), "reads on a full disk");
  BOOST_TEST(c.count(db, "M") == int64_t(expect.size()));
  BOOST_TEST(c.count(db, "M", J(R"({"k":{"$gte":1000}})")) == int64_t(expect.size()) - 20);
  mg::client::ChangesResult during = c.changes(db, "M", seq);
  BOOST_TEST(during.events.empty(), "change events of refused writes");
  BOOST_TEST(during.last_seq == seq, "lastSeq moved on refused writes");
  BOOST_TEST(d.running(), "the daemon died on a full disk\n" << d.log());

  // Space returns: the same writes now succeed.
  squeeze.release(d);
  c.insert_one(db, "M", doc(refused, 1, big));
  expect[refused] = 1;
  c.insert_many(db, "M", batch);
  for (int64_t id : {5000, 5001, 5002}) expect[id] = 2;
  BOOST_TEST(c.update_one(db, "M", J(R"({"_id":1})"), J(R"({"$set":{"v":3}})")).modified == 1);
  expect[1] = 3;
  BOOST_TEST((read_state(c, db) == expect), "after space returned");
  mg::client::ChangesResult after = c.changes(db, "M", seq);
  BOOST_TEST_REQUIRE(after.events.size() == 5u, "events after space returned");
  BOOST_TEST(MpView(after.events[0]).get("seq").as_int() == seq + 1, "seq skipped refused writes");

  // Nothing corrupt on disk: a SIGKILL restart and a clean restart both recover it exactly.
  d.kill();
  d.start();
  {
    Client c2(d.req_endpoint(), client_options());
    BOOST_TEST((read_state(c2, db) == expect), "after SIGKILL and restart\n" << d.log());
  }
  BOOST_TEST(d.stop() == 0, d.log());
  d.start();
  {
    Client c2(d.req_endpoint(), client_options());
    BOOST_TEST((read_state(c2, db) == expect), "after a clean restart\n" << d.log());
  }
  BOOST_TEST(d.stop() == 0, d.log());
}

bool offers(const std::string& mode) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  for (auto& m : mg::crash::persistent_modes(c))
    if (m.name == mode) return true;
  return false;
}

boost::test_tools::assertion_result can_mount() {
  boost::test_tools::assertion_result r(g_can_mount);
  if (!r) r.message() << "no private mount namespace (needs CAP_SYS_ADMIN): tmpfs cases skipped";
  return r;
}

boost::test_tools::assertion_result has_mode(const std::string& mode, bool mount) {
  if (mount && !g_can_mount) return can_mount();
  boost::test_tools::assertion_result r(offers(mode));
  if (!r) r.message() << "memgoosed offers no " << mode << " storage";
  return r;
}

enum class How { Tmpfs, Fsize, Eio };

void run(const std::string& mode, How how) {
  if (how == How::Tmpfs) {
    TmpfsSqueeze s;
    disk_full(mode, s);
  } else if (how == How::Fsize) {
    FsizeSqueeze s;
    disk_full(mode, s);
  } else {
    EioSqueeze s;
    disk_full(mode, s);
  }
}

}  // namespace

// One case per backend/mode and way of failing the disk; wiredtiger's run when it is built.
// SQLite writes its pages at COMMIT and WiredTiger its log at commit (3.2.1 then panics,
// "fatal log failure", and the connection is reopened before the next write): their failures
// reach the model actor as a failed group commit, which it rolls back (model_actor.cc).
#define DISK_FULL_CASE(name, mode, how)                                                     \
  BOOST_AUTO_TEST_CASE(name, *boost::unit_test::precondition(                               \
                                 [](auto) { return has_mode(mode, how == How::Tmpfs); })) { \
    run(mode, how);                                                                         \
  }

DISK_FULL_CASE(enospc_file_immediate, "file-immediate", How::Tmpfs)
DISK_FULL_CASE(enospc_file_debounced, "file-debounced", How::Tmpfs)
DISK_FULL_CASE(enospc_sqlite_normal, "sqlite-normal", How::Tmpfs)
DISK_FULL_CASE(enospc_sqlite_full, "sqlite-full", How::Tmpfs)
DISK_FULL_CASE(enospc_wiredtiger, "wiredtiger-sync", How::Tmpfs)
DISK_FULL_CASE(fsize_limit_file_immediate, "file-immediate", How::Fsize)
DISK_FULL_CASE(fsize_limit_file_debounced, "file-debounced", How::Fsize)
DISK_FULL_CASE(fsize_limit_sqlite_normal, "sqlite-normal", How::Fsize)
DISK_FULL_CASE(fsize_limit_sqlite_full, "sqlite-full", How::Fsize)
DISK_FULL_CASE(eio_file_immediate, "file-immediate", How::Eio)
DISK_FULL_CASE(eio_file_debounced, "file-debounced", How::Eio)
DISK_FULL_CASE(eio_sqlite_normal, "sqlite-normal", How::Eio)
DISK_FULL_CASE(eio_sqlite_full, "sqlite-full", How::Eio)
DISK_FULL_CASE(eio_wiredtiger, "wiredtiger-sync", How::Eio)
// No fsize case for wiredtiger: its log files are 16 MB (allocated in full when created) and
// the compressed table stays below any limit this test can set without also refusing the
// log, so RLIMIT_FSIZE never turns into a refused write there; the tmpfs case covers it.

// EIO from fsync/fdatasync only: the group's data reached the page cache (and the WAL file) but
// not the disk. Its writes are refused with StorageError, and a SIGKILL right afterwards — no
// later write overwriting anything — must not bring them back (the group is rolled back on disk,
// not only in memory). Then the disk heals: sqlite and wiredtiger take writes again at once; the
// file backend refuses them until a restart (what a failed fdatasync should have written may be
// lost), and takes them after it.
void fsync_fails(const std::string& mode_name) {
  DaemonOptions o;
  o.start = false;
  DaemonProcess d(o);
  EioSqueeze squeeze(true);
  squeeze.before_start(d);
  d.start();
  std::string db = "full";
  State expect;
  {
    Client c(d.req_endpoint(), client_options(5000));
    mg::crash::Mode mode = mg::crash::find_mode(c, mode_name);
    c.create_database(db, mode.storage, J(mode.options));
    int64_t seq = seed_twenty(c, db, expect, 100);
    squeeze.fill(d);
    Reply r = c.call(std::move(Request("insertOne", db, "M").arg("doc", doc(1000, 1, 100))));
    expect_refused(r, "insertOne", d);
    BOOST_TEST_MESSAGE("refused: " << js(r));
    expect_refused(c.call(std::move(Request("updateOne", db, "M")
                                        .arg("filter", J(R"({"_id":2})"))
                                        .arg("update", J(R"({"$set":{"v":9}})")))),
                   "updateOne", d);
    BOOST_TEST((read_state(c, db) == expect), "reads after a failed fsync");
    BOOST_TEST(c.changes(db, "M", seq).events.empty(), "change events of refused writes");
    squeeze.release(d);
    if (mode_name.starts_with("file")) {
      Reply again = c.call(std::move(Request("insertOne", db, "M").arg("doc", doc(1001, 1, 100))));
      expect_refused(again, "insertOne after a failed fdatasync, before a restart", d);
      if (!again.ok())
        BOOST_TEST(std::string(again.error().message()).find("restart") != std::string::npos,
                   js(again));
    }
  }
  d.kill();
  d.start();
  {
    Client c(d.req_endpoint(), client_options());
    State got = read_state(c, db);
    BOOST_TEST_REQUIRE((got == expect),
                       "after SIGKILL right after the failed fsync: refused insert "
                           << (got.count(1000) ? "back" : "absent") << ", refused update "
                           << (got[2] == 9 ? "back" : "absent") << "\n"
                           << d.log());
    c.insert_one(db, "M", doc(1001, 1, 100));
    expect[1001] = 1;
    BOOST_TEST((read_state(c, db) == expect), "writes after the restart");
  }
  BOOST_TEST(d.stop() == 0, d.log());
  d.start();
  {
    Client c(d.req_endpoint(), client_options());
    BOOST_TEST((read_state(c, db) == expect), "after a clean restart\n" << d.log());
  }
  BOOST_TEST(d.stop() == 0, d.log());
}

// When only the fsync fails, SQLite has already written a complete commit frame to its WAL and
// WiredTiger its log record, and a recovery would replay them: the model writes the documents
// the refused group touched back as memory has them, durably, before it answers (or, while the
// disk still fails, records them and refuses writes; the restart writes them back:
// storage/reconcile.h). The EIO persists over both refused writes and ends just before the
// SIGKILL, which comes before any later write could have overwritten anything.
#define FSYNC_CASE(name, mode)                                                             \
  BOOST_AUTO_TEST_CASE(                                                                    \
      name, *boost::unit_test::precondition([](auto) { return has_mode(mode, false); })) { \
    fsync_fails(mode);                                                                     \
  }

FSYNC_CASE(eio_fsync_file_immediate, "file-immediate")
FSYNC_CASE(eio_fsync_sqlite_full, "sqlite-full")
FSYNC_CASE(eio_fsync_wiredtiger, "wiredtiger-sync")

// The disk fails while 4 clients pipeline inserts (window 8 each): with the pipelined commit
// (file, wiredtiger) a failing group takes the group opened behind it down too, and with every
// backend reads and writes interleave with rollbacks. Every insert is answered, either ok or
// StorageError; the documents there are exactly the acknowledged ones (no refused one, none
// lost), in memory, after a SIGKILL and restart, and the unique index takes a refused `k`
// again.
void eio_under_pipelined_writers(const std::string& mode_name) {
  DaemonOptions o;
  o.start = false;
  DaemonProcess d(o);
  EioSqueeze squeeze;
  squeeze.before_start(d);
  d.start();
  std::string db = "full";
  constexpr int kClients = 4, kPer = 1500;
  std::mutex mu;
  std::set<int64_t> acked, refused;
  std::vector<std::string> odd;  // replies that are neither ok nor StorageError
  {
    Client c(d.req_endpoint(), client_options(20000));
    mg::crash::Mode mode = mg::crash::find_mode(c, mode_name);
    c.create_database(db, mode.storage, J(mode.options));
    c.define_model(db, "M", J(R"({"fields":{"k":{"type":"int","unique":true}}})"));
    std::atomic<int> sent{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kClients; ++t)
      writers.emplace_back([&, t] {
        Client w(d.req_endpoint(), client_options(20000, 8));
        for (int i = 0; i < kPer; ++i) {
          int64_t id = int64_t(t) * kPer + i + 1;
          w.send_async(Request("insertOne", db, "M").arg("doc", doc(id, 0, 40)), [&, id](Reply r) {
            std::lock_guard lock(mu);
            if (r.ok())
              acked.insert(id);
            else if (r.error().code() == kStorageError)
              refused.insert(id);
            else
              odd.push_back(js(r));
          });
          sent++;
        }
        w.drain();
      });
    // The disk fails for a moment, five times, while the writers are at it: a few ms, so that
    // a failed group is followed at once by groups that succeed (what a failed group left
    // behind would be written by them), then 100 ms.
    for (int round = 0; round < 5; ++round) {
      while (sent.load() < (round + 1) * kClients * kPer / 6)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      squeeze.fill(d);
      std::this_thread::sleep_for(std::chrono::milliseconds(round < 4 ? 3 : 100));
      squeeze.release(d);
    }
    for (auto& w : writers) w.join();
    BOOST_TEST(odd.empty(), (odd.empty() ? std::string() : odd.front()));
    BOOST_TEST(acked.size() + refused.size() == size_t(kClients * kPer), "every insert answered");
    BOOST_TEST(!refused.empty(), "the failing disk refused something");
    BOOST_TEST(!acked.empty());
    BOOST_TEST_MESSAGE(mode_name << ": " << acked.size() << " acknowledged, " << refused.size()
                                 << " refused");
    auto ids = [&](Client& cl) {
      std::set<int64_t> got;
      for (auto& [id, v] : read_state(cl, db)) got.insert(id);
      return got;
    };
    // The file backend refuses writes after a failed fdatasync until a restart; a write failure
    // alone it survives. Either way what is there is what was acknowledged.
    BOOST_TEST((ids(c) == acked), "documents in memory == acknowledged inserts\n" << d.log());
  }
  d.kill();
  d.start();
  {
    Client c(d.req_endpoint(), client_options(20000));
    std::set<int64_t> got;
    for (auto& [id, v] : read_state(c, db)) got.insert(id);
    BOOST_TEST_REQUIRE((got == acked), "after SIGKILL: " << got.size() << " documents, "
                                                         << acked.size() << " acknowledged\n"
                                                         << d.log());
    if (!refused.empty()) {
      int64_t again = *refused.begin();
      c.insert_one(db, "M", doc(again, 1, 40));  // its `k` is free in the unique index
      BOOST_TEST(read_state(c, db).at(again) == 1);
    }
  }
  BOOST_TEST(d.stop() == 0, d.log());
}

#define PIPELINED_EIO_CASE(name, mode)                                                     \
  BOOST_AUTO_TEST_CASE(                                                                    \
      name, *boost::unit_test::precondition([](auto) { return has_mode(mode, false); })) { \
    eio_under_pipelined_writers(mode);                                                     \
  }

PIPELINED_EIO_CASE(eio_pipelined_writers_file_immediate, "file-immediate")
PIPELINED_EIO_CASE(eio_pipelined_writers_file_debounced, "file-debounced")
PIPELINED_EIO_CASE(eio_pipelined_writers_wiredtiger, "wiredtiger-sync")
PIPELINED_EIO_CASE(eio_pipelined_writers_sqlite_full, "sqlite-full")
