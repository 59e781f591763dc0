// storage/file_storage.cc — the `file` backend: an NDJSON snapshot plus an NDJSON write-ahead
// log per model, in the manner of Redis' append-only file.
//
// Files, under <data-dir>/<db>/ (formats defined in storage/wal.h):
//
//   User.data.ndjson   the snapshot: a header naming the last change it contains, then one
//                      Extended JSON document a line.
//       {"$memgoose":{"format":1,"seq":2}}
//       {"_id":1,"name":"Ada","born":{"$date":"1815-12-10T00:00:00.000Z"},"score":1.0}
//       {"_id":2,"name":"Bob","photo":{"$binary":"iVBORw0K"}}
//   User.wal.ndjson    every change since, one record a line, in seq order:
//       {"op":"replace","seq":3,"id":2,"doc":{"_id":2,"name":"Bobby"}}
//       {"op":"insert","seq":4,"more":true,"id":"x","doc":{"_id":"x"}}
//       {"op":"insert","seq":5,"id":"y","doc":{"_id":"y"}}
//       {"op":"delete","seq":6,"id":1}
//       {"op":"clear","seq":7}
//   *.tmp              a compaction in progress (removed at open).
//
// Writing (group commit, DESIGN.md decision 4). apply() turns the changes of one call into
// WAL lines (a call of 128 changes or more on two threads: the engine's helper encodes the
// first half while the model's thread encodes the rest) and appends them with ONE write()
// (continued only if the kernel takes part of it); if writing fails (disk full, file too
// large, I/O error), the file is cut back to its
// previous length, so the call leaves nothing behind, and StorageError is returned. All records of
// a call but the last carry "more":true, so recovery also applies a call whole or not at all (an
// insertMany is never half recovered). commit(), once per mailbox batch of the model's actor, makes
// the batch durable: in `immediate` mode one fdatasync before it returns; in `debounced` mode it
// returns at once and the engine's syncer thread fdatasyncs the WAL at most debounceMs later.
// Either way the bytes reached the kernel in apply(), so a killed process (SIGKILL) loses nothing
// acknowledged; a power cut loses at most the last debounceMs in debounced mode, nothing in
// immediate mode.
// If the fdatasync fails (EIO; in debounced mode, the syncer's last one), commit() cuts the
// group's records off the WAL again and returns StorageError (the model's actor rolls the group
// back in memory); the failure is kept and every later apply() is refused until a restart, since
// what the failed fdatasync should have written may be lost.
//
// Compaction. When the WAL passes compactBytes (and at close()), the state is rewritten as a
// new snapshot and the WAL restarts empty. The Collection holds the documents in memory, but
// they belong to the model's actor; rather than keep a second copy of every document, the
// strategy keeps an Overlay (wal.h): the latest version of each document changed since the
// snapshot (and the first version of one changed again, kept in its arena), plus tombstones.
// It is never larger than the WAL it mirrors (every version it holds is a record there;
// bounded by compactBytes), and the merge streams: unchanged snapshot lines are copied verbatim,
// changed ones replaced, deleted ones dropped, new ones appended. While every change since the
// snapshot was an insert of a new _id (ingest), no old line can be superseded, and the old snapshot
// is copied without even being parsed. Steps, each safe to crash after:
//   1. freeze: the Overlay and the WAL length W move to a job; later writes start a new Overlay
//      and keep appending to the same WAL. The job runs on the engine's compactor thread, so
//      the model keeps serving reads and writes (close() runs it inline).
//   2. write <Model>.data.ndjson.tmp (header seq N = last seq frozen), fsync, rename over the
//      snapshot, fsync the directory. A crash before the rename leaves the old snapshot and
//      the full WAL; after it, the new snapshot and the old WAL, whose records with seq <= N
//      recovery skips: replay is idempotent.
//   3. under the WAL's lock: copy the WAL's bytes after W (changes made during the merge) to
//      <Model>.wal.ndjson.tmp, fsync, rename over the WAL, fsync the directory, append to the
//      new file from then on. Only this step holds up the model's writes (two fsyncs of a small
//      file); reads never wait for any of it.
// A failed step 2 (disk full) lays the frozen Overlay back under the live one and waits for
// another compactBytes of WAL before trying again; nothing is lost. If only the directory sync
// after the rename failed, the new snapshot stands: the frozen Overlay is dropped (it is in the
// snapshot; laid back, its documents were written twice by the next compaction, a duplicate
// _id that kept the model from opening) and the WAL keeps every change. Crash points for tests:
// set_file_fault() / MG_FILE_FAULT (file_storage.h).
//
// Recovery (open(), file_storage_recover.cc). Leftover .tmp files are removed. The snapshot's
// header gives N; the WAL is replayed into an Overlay, skipping records with seq <= N; then
// the snapshot's documents not superseded by the Overlay go to the sink, followed by the
// Overlay's documents. last_seq() is the highest seq seen. Like Redis' aof-load-truncated, a
// torn end of the WAL — a last line without '\n', bad JSON on the very last line, or a batch
// whose last record ("more" absent) never arrived — is cut off (the file is truncated) and
// logged: "memgoosed: <file>: truncated torn record at line N". Anything bad before that is
// damage, not a crash: open() fails with StorageError "<file>:<line>: <reason>" and the
// daemon refuses to start until `memgoosed --repair DB` (repair_file_database) cuts the file
// at that line, keeping a copy. The snapshot is only ever replaced whole, so any bad line in
// it is damage too; a last line without '\n' that parses (a file written by hand) is accepted.
#include "storage/file_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "storage/backup_files.h"
#include "storage/file_storage_internal.h"

namespace mg::file_detail {

// ---- POSIX helpers ----

Status io_error(const std::string& what, const std::string& path) {
  return make_status(ErrorCode::StorageError, what + " " + path + ": " + std::strerror(errno));
}

Status write_all(int fd, std::string_view bytes, const std::string& path, size_t* written) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      if (written) *written = done;
      return io_error("cannot write to", path);
    }
    done += size_t(n);
  }
  if (written) *written = done;
  return Status::OK();
}

Status sync_dir(int dirfd, const std::string& path) {
  if (::fsync(dirfd) != 0) return io_error("cannot fsync directory", path);
  return Status::OK();
}

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

// ---- crash points ----

namespace {

constexpr std::pair<Fault, std::string_view> kFaults[] = {
    {Fault::WalTornWrite, "wal_torn_write"},
    {Fault::AfterWalWrite, "after_wal_write"},
    {Fault::AfterSnapshotTmp, "after_snapshot_tmp"},
    {Fault::AfterSnapshotRename, "after_snapshot_rename"},
    {Fault::AfterWalTmp, "after_wal_tmp"},
    {Fault::AfterWalRename, "after_wal_rename"},
    {Fault::SnapshotDirSyncFails, "snapshot_dir_sync_fails"},
};

Fault fault_named(std::string_view name) {
  for (auto& [f, n] : kFaults)
    if (n == name) return f;
  return Fault::None;
}

std::atomic<int>& chosen_fault() {
  static std::atomic<int> f{[] {
    const char* env = std::getenv("MG_FILE_FAULT");
    return int(env ? fault_named(env) : Fault::None);
  }()};
  return f;
}

}  // namespace

bool fault_is(Fault f) {
  return chosen_fault().load(std::memory_order_relaxed) == int(f);
}

void fault_point(Fault f) {
  if (!fault_is(f)) return;
  for (auto& [ff, n] : kFaults)
    if (ff == f) std::fprintf(stderr, "memgoosed: MG_FILE_FAULT: crashing at %s\n", n.data());
  ::_exit(137);
}

// ---- WalFile ----

WalFile::WalFile(std::string p, std::shared_ptr<Fd> f, uint64_t size)
    : path(std::move(p)), fd(std::move(f)), size_(size), synced_(size) {}

Status WalFile::append(std::string_view bytes) {
  std::lock_guard lock(mu);
  if (!fd) return make_status(ErrorCode::StorageError, path + " is closed");
  if (broken_)
    return make_status(ErrorCode::StorageError,
                       path +
                           " has a partly written batch that could not be cut back; "
                           "restart the daemon to recover it");
  if (!sync_error_.ok())
    return make_status(ErrorCode::StorageError,
                       "writes are refused until the daemon restarts (recovery then reads back "
                       "what is on disk), since an fdatasync failed: " +
                           sync_error_.message);
  if (fault_is(Fault::WalTornWrite)) {
    (void)write_all(fd->fd, bytes.substr(0, bytes.size() / 2), path);
    fault_point(Fault::WalTornWrite);
  }
  size_t written = 0;
  Status s = write_all(fd->fd, bytes, path, &written);
  if (!s.ok()) {
    if (written > 0 && ::ftruncate(fd->fd, off_t(size_)) != 0) broken_ = true;
    return s;
  }
  size_ += bytes.size();
  fault_point(Fault::AfterWalWrite);
  return Status::OK();
}

Status WalFile::sync() {
  std::shared_ptr<Fd> f;
  uint64_t target, gen;
  {
    std::lock_guard lock(mu);
    if (!sync_error_.ok()) return sync_error_;
    if (!fd || synced_ == size_) return Status::OK();
    f = fd, target = size_, gen = generation_;
  }
  int rc = ::fdatasync(f->fd);
  Status s = rc == 0 ? Status::OK() : io_error("cannot fdatasync", path);
  std::lock_guard lock(mu);
  if (!s.ok()) {
    if (sync_error_.ok()) sync_error_ = s;
    return s;
  }
  if (gen == generation_ && target > synced_) synced_ = target;
  return Status::OK();
}

Status WalFile::cut_back(uint64_t bytes) {
  std::lock_guard lock(mu);
  if (!fd || bytes == 0) return Status::OK();
  uint64_t to = size_ - bytes;
  if (::ftruncate(fd->fd, off_t(to)) != 0) {
    broken_ = true;
    return io_error("cannot cut back", path);
  }
  size_ = to;
  synced_ = std::min(synced_, to);
  return Status::OK();
}

Status WalFile::check() {
  std::lock_guard lock(mu);
  return sync_error_;
}

uint64_t WalFile::size() {
  std::lock_guard lock(mu);
  return size_;
}

uint64_t WalFile::pending() {
  std::lock_guard lock(mu);
  return size_ - synced_;
}

void WalFile::swap(std::shared_ptr<Fd> f, uint64_t size) {
  fd = std::move(f);  // the caller holds mu
  size_ = synced_ = size;
  ++generation_;
  broken_ = false;
}

void WalFile::close() {
  std::lock_guard lock(mu);
  fd.reset();
}

// ---- FileStorage: writing ----

FileStorage::FileStorage(std::shared_ptr<FileEnv> env, std::string model)
    : env_(std::move(env)),
      model_(std::move(model)),
      data_name_(model_ + ".data.ndjson"),
      wal_name_(model_ + ".wal.ndjson") {}

FileStorage::~FileStorage() {
  close();
}

Status FileStorage::apply(std::span<const Change> changes) {
  if (changes.empty()) return Status::OK();
  if (!open_ || closed_)
    return make_status(ErrorCode::StorageError, env_->dir.file(wal_name_) + " is not open");
  buf_.clear();
  key_pos_.assign(changes.size(), {0, 0});
  // A big call (an insertMany) is encoded by two threads: the engine's helper encodes the
  // first half into buf_ while this one encodes the rest into tail_ (Extended JSON is most of
  // what a write costs the model's thread). Both are in buf_, in order, before the write.
  constexpr size_t kHelpRecords = 128;
  size_t split = changes.size() / 2;
  bool helped = changes.size() >= kHelpRecords &&
                env_->bg->try_help([&] { encode(changes, 0, split, buf_); });
  if (helped) {
    tail_.clear();
    try {
      encode(changes, split, changes.size(), tail_);
    } catch (...) {
      env_->bg->wait_help();
      throw;
    }
    env_->bg->wait_help();
    for (size_t i = split; i < changes.size(); ++i) key_pos_[i].first += buf_.size();
    buf_ += tail_;
  } else {
    encode(changes, 0, changes.size(), buf_);
  }
  Status s = wal_->append(buf_);
  if (!s.ok()) return s;
  uncommitted_bytes_ += buf_.size();
  for (size_t i = 0; i < changes.size(); ++i) {
    std::string_view key(buf_.data() + key_pos_[i].first, key_pos_[i].second);
    switch (changes[i].op) {
      case Change::Op::Insert:
        live_.put(key, changes[i].doc, true);
        break;
      case Change::Op::Replace:
        live_.put(key, changes[i].doc, false);
        break;
      case Change::Op::Delete:
        live_.erase(key);
        break;
      case Change::Op::Clear:
        live_.clear();
        break;
    }
    last_seq_ = std::max(last_seq_, changes[i].seq);
  }
  return Status::OK();
}

// Appends the records of changes [from, to) to `out` and their keys' positions in `out` to
// key_pos_[from, to). Touches nothing else: the helper thread runs it beside this one.
void FileStorage::encode(std::span<const Change> changes, size_t from, size_t to,
                         std::string& out) {
  for (size_t i = from; i < to; ++i)
    wal_encode_record(changes[i], i + 1 < changes.size(), out, &key_pos_[i].first,
                      &key_pos_[i].second);
}

Status FileStorage::commit() {
  if (!open_ || closed_) return Status::OK();
  Status s = env_->opts.immediate ? wal_->sync() : wal_->check();
  uint64_t group = std::exchange(uncommitted_bytes_, 0);
  if (!s.ok()) {
    // Roll the group back (storage_strategy.h): its records are cut off the WAL, so recovery
    // cannot bring them back. The sync error stays: later writes are refused until a restart,
    // because what an fdatasync failed to write (acknowledged writes, in debounced mode) may
    // be lost. Compaction stops too (close() skips it), so the Overlay never reaches a file.
    Status cut = wal_->cut_back(group);
    if (!cut.ok()) std::fprintf(stderr, "memgoosed: %s\n", cut.message.c_str());
    return s;
  }
  if (!env_->opts.immediate && wal_->pending() > 0) env_->bg->schedule_sync(wal_);
  ++commits_;
  reap_job(false);
  maybe_compact();
  return Status::OK();
}

Status FileStorage::flush() {
  if (!open_ || closed_) return Status::OK();
  return wal_->sync();
}

// Moves the live Overlay and the WAL's length into a new compaction job.
std::shared_ptr<CompactionJob> FileStorage::freeze() {
  auto job = std::make_shared<CompactionJob>();
  job->dir = env_->dir;
  job->data_name = data_name_;
  job->wal_name = wal_name_;
  job->frozen = std::make_shared<Overlay>(std::move(live_));
  live_ = Overlay();
  job->seq = last_seq_;
  job->wal_offset = wal_->size();
  job->wal = wal_;
  return job;
}

void FileStorage::maybe_compact() {
  if (job_) return;
  uint64_t size = wal_->size();
  if (size <= uint64_t(env_->opts.compact_bytes) || size < next_compact_at_) return;
  job_ = freeze();
  env_->bg->submit(job_);
}

// Takes in the result of a finished compaction (waiting for it when `wait`).
void FileStorage::reap_job(bool wait) {
  if (!job_ || (!wait && !job_->done())) return;
  CompactionJob::State st = job_->wait();
  if (st == CompactionJob::State::SnapshotFailed) {
    live_.absorb_older(std::move(*job_->frozen));
  } else {
    snapshot_bytes_ = job_->snapshot_bytes;
  }
  next_compact_at_ =
      st == CompactionJob::State::Done ? 0 : wal_->size() + uint64_t(env_->opts.compact_bytes);
  job_.reset();
}

// Online backup: called from the model's actor, so no write interleaves. A running
// compaction is waited for (it swaps files), the WAL synced, then the snapshot (absent before
// the first compaction) and the WAL copied: open() replays the copy to this moment.
Result<bool> FileStorage::backup(const std::string& dir) {
  if (!open_ || closed_)
    return make_status(ErrorCode::StorageError, "file storage of " + model_ + ": not open");
  reap_job(true);
  Status s = flush();
  if (s.ok()) s = copy_file_synced(env_->dir.file(data_name_), dir + "/" + data_name_, true);
  if (s.ok()) s = copy_file_synced(env_->dir.file(wal_name_), dir + "/" + wal_name_, true);
  if (!s.ok()) return s;
  return true;
}

void FileStorage::close() {
  if (closed_) return;
  closed_ = true;
  if (!open_) return;
  reap_job(true);
  Status s = wal_->sync();
  if (!s.ok()) std::fprintf(stderr, "memgoosed: %s\n", s.message.c_str());
  if (s.ok() && wal_->size() > 0) {
    auto job = freeze();
    run_compaction(*job);  // logs its own failure; the WAL keeps everything then
  }
  release();
}

void FileStorage::release() {
  if (wal_) wal_->close();
  open_ = false;
}

Status FileStorage::destroy() {
  if (open_) reap_job(true);
  release();
  closed_ = true;
  int dfd = env_->dir.fd->fd;
  Status first;
  for (const std::string& name : {data_name_, wal_name_, data_name_ + ".tmp", wal_name_ + ".tmp"})
    if (::unlinkat(dfd, name.c_str(), 0) != 0 && errno != ENOENT && first.ok())
      first = io_error("cannot remove", env_->dir.file(name));
  Status s = sync_dir(dfd, env_->dir.path);
  return first.ok() ? s : first;
}

StorageStats FileStorage::stats() const {
  StorageStats st;
  st.commits = commits_;
  st.bytes_on_disk = snapshot_bytes_;
  if (wal_) {
    st.bytes_on_disk += wal_->size();
    st.pending_bytes = wal_->pending();
  }
  return st;
}

}  // namespace mg::file_detail

namespace mg {

bool set_file_fault(std::string_view step) {
  file_detail::Fault f = file_detail::fault_named(step);
  file_detail::chosen_fault().store(int(f));
  return f != file_detail::Fault::None || step.empty();
}

}  // namespace mg
