// storage/file_storage_internal.h — the parts of the `file` backend shared by its .cc files
// (file_storage.cc: the strategy; file_storage_recover.cc: open and repair;
// file_storage_compact.cc: compaction; file_storage_bg.cc: the background threads;
// file_storage_kind.cc: options and engine). Not for use outside storage/file_storage*.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/file_storage.h"
#include "storage/wal.h"

namespace mg::file_detail {

// ---- POSIX helpers: every error names the file and carries strerror(errno). ----

// StorageError "<what> <path>: <strerror(errno)>".
Status io_error(const std::string& what, const std::string& path);
// write() until done; on error returns io_error and how much was written in `*written`.
Status write_all(int fd, std::string_view bytes, const std::string& path,
                 size_t* written = nullptr);
// fsync of a directory (makes created, renamed and removed entries durable).
Status sync_dir(int dirfd, const std::string& path);

// An owned file descriptor, closed by the last holder (a syncer may hold one while the model
// swaps in a new file).
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// ---- crash points (file_storage.h, set_file_fault) ----
enum class Fault : int {
  None,
  WalTornWrite,
  AfterWalWrite,
  AfterSnapshotTmp,
  AfterSnapshotRename,
  AfterWalTmp,
  AfterWalRename,
  SnapshotDirSyncFails  // not a crash: the directory sync after the snapshot's rename fails
};
// _exit(137) when `f` is the crash point chosen.
void fault_point(Fault f);
bool fault_is(Fault f);

// The directory of one database, opened once: every file operation is relative to this
// descriptor, so a database directory renamed away (dropDatabase) is never confused with a new
// one created under the same name.
struct Dir {
  std::string path;
  std::shared_ptr<Fd> fd;
  std::string file(const std::string& name) const { return path + "/" + name; }
};

// One model's open WAL, shared by its strategy (appends, immediate syncs), the engine's syncer
// (debounced syncs) and its compactor (which swaps in a fresh file). Fields under `mu`.
class WalFile {
 public:
  WalFile(std::string path, std::shared_ptr<Fd> fd, uint64_t size);

  // Appends `bytes` with one write(). On failure cuts the file back to its previous length,
  // so nothing of the call survives, and returns StorageError.
  Status append(std::string_view bytes);
  // fdatasync of everything appended so far (outside the lock). A sync failure is kept and
  // returned by every later sync() and check(), and append() refuses: the data may be lost.
  Status sync();
  Status check();
  // Truncates the last `bytes` appended (a group whose commit failed). On failure the file is
  // broken: later appends fail.
  Status cut_back(uint64_t bytes);
  uint64_t size();
  uint64_t pending();  // bytes appended but not yet known durable
  // Replaces the file by `fd` holding `size` durable bytes (compaction), under the lock.
  void swap(std::shared_ptr<Fd> fd, uint64_t size);
  // Releases the descriptor; later calls fail.
  void close();

  const std::string path;
  std::mutex mu;
  std::shared_ptr<Fd> fd;    // guarded by mu
  uint64_t size_ = 0;        // guarded by mu
  uint64_t synced_ = 0;      // guarded by mu
  uint64_t generation_ = 0;  // guarded by mu: bumped by swap()
  bool broken_ = false;      // guarded by mu: a failed append could not be cut back
  Status sync_error_;        // guarded by mu
  std::atomic<bool> sync_scheduled{false};
};

// A compaction: the state frozen at `seq` (the snapshot plus `frozen`) becomes the new
// snapshot, then the WAL is replaced by its tail after `wal_offset` (the changes made since the
// freeze). Runs on the compactor thread, or inline at close().
struct CompactionJob {
  // SnapshotFailed: the old snapshot stands, `frozen` goes back under the live Overlay.
  // WalResetFailed: the new snapshot is in place (renamed; its directory sync may have failed)
  // but the WAL was not restarted; `frozen` is in the snapshot and is dropped.
  enum class State { Running, Done, SnapshotFailed, WalResetFailed };
  Dir dir;
  std::string data_name, wal_name;
  std::shared_ptr<Overlay> frozen;  // only read by the job
  uint64_t seq = 0;
  uint64_t wal_offset = 0;
  std::shared_ptr<WalFile> wal;

  // Results, under mu.
  std::mutex mu;
  std::condition_variable cv;
  State state = State::Running;
  Status error;
  uint64_t snapshot_bytes = 0;

  void finish(State s, Status err, uint64_t bytes);
  State wait();
  bool done();
};

// Does the whole compaction (both steps), records the result in the job and logs a failure.
void run_compaction(CompactionJob& job);

// The engine's background threads, started on first use: a syncer that fdatasyncs WALs of
// debounced models at most debounceMs after their commit, a compactor that runs compaction
// jobs one at a time, and a helper that encodes half of a big apply() (an insertMany) while
// the model's thread encodes the other half. The destructor stops and joins them (jobs still
// queued are abandoned as SnapshotFailed: nothing was changed for them).
class FileBackground {
 public:
  explicit FileBackground(std::chrono::milliseconds debounce) : debounce_(debounce) {}
  ~FileBackground();
  // Syncs `wal` within debounceMs (no-op when one is already scheduled).
  void schedule_sync(const std::shared_ptr<WalFile>& wal);
  void submit(std::shared_ptr<CompactionJob> job);
  // Runs `task` on the helper thread, unless it is busy with another model's: returns false
  // then, and the caller does the work itself. After true, the caller must call wait_help()
  // before anything the task uses goes away; wait_help() rethrows what the task threw.
  bool try_help(std::function<void()> task);
  void wait_help();

 private:
  void sync_loop();
  void compact_loop();
  void help_loop();
  void start_locked();
  std::chrono::milliseconds debounce_;
  std::mutex mu_;
  std::condition_variable sync_cv_, compact_cv_;
  bool stop_ = false, started_ = false;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<WalFile>>> syncs_;
  std::vector<std::shared_ptr<CompactionJob>> jobs_;
  std::thread syncer_, compactor_;
  // The helper, under help_mu_ (apart from mu_: the syncer holds that while it waits).
  std::mutex help_mu_;
  std::condition_variable help_cv_, help_done_cv_;
  std::function<void()> help_task_;
  std::exception_ptr help_error_;
  bool help_busy_ = false, help_done_ = false, help_stop_ = false;
  std::thread helper_;
};

// What every model of one file database shares.
struct FileEnv {
  Dir dir;
  FileOptions opts;
  std::shared_ptr<FileBackground> bg;
};
Result<std::shared_ptr<FileEnv>> open_file_env(const std::string& dir, const FileOptions& opts);

// Streams the snapshot's documents after its header (`first`: line 1 when it was a document)
// to `sink`, in file order, leaving out those `live` supersedes. `parallel` parses on a helper
// thread (file_storage_load.cc). Errors name the file and line.
Status stream_snapshot(LineReader& reader, const std::string& first, const std::string& path,
                       const Overlay& live, bool parallel,
                       const std::function<Status(std::string_view)>& sink);

// The strategy (file_storage.cc; open() in file_storage_recover.cc).
class FileStorage final : public StorageStrategy {
 public:
  FileStorage(std::shared_ptr<FileEnv> env, std::string model);
  ~FileStorage() override;

  Status open(const std::function<Status(std::string_view doc)>& sink) override;
  uint64_t last_seq() const override { return last_seq_; }
  Status apply(std::span<const Change> changes) override;
  Status commit() override;
  Status flush() override;
  void close() override;
  Status destroy() override;
  StorageStats stats() const override;
  // Waits for a running compaction, syncs the WAL, copies snapshot and WAL into dir.
  Result<bool> backup(const std::string& dir) override;

 private:
  Status open_files(const std::function<Status(std::string_view)>& sink);
  Status replay_wal(uint64_t snapshot_seq);
  std::shared_ptr<CompactionJob> freeze();
  void maybe_compact();
  void reap_job(bool wait);
  void release();

  std::shared_ptr<FileEnv> env_;
  std::string model_, data_name_, wal_name_;
  std::shared_ptr<WalFile> wal_;
  Overlay live_;  // changes since the snapshot (or since the running compaction's freeze)
  std::shared_ptr<CompactionJob> job_;
  uint64_t last_seq_ = 0;
  uint64_t snapshot_bytes_ = 0;
  uint64_t commits_ = 0;
  uint64_t next_compact_at_ = 0;    // after a failed compaction: WAL size to wait for
  uint64_t uncommitted_bytes_ = 0;  // appended to the WAL since the last commit
  bool open_ = false, closed_ = false;
  void encode(std::span<const Change> changes, size_t from, size_t to, std::string& out);

  std::string buf_;   // apply()'s records, reused
  std::string tail_;  // the records this thread encodes beside the helper
  std::vector<std::pair<size_t, size_t>> key_pos_;  // apply()'s keys in buf_
};

}  // namespace mg::file_detail
