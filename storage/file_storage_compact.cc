// storage/file_storage_compact.cc — compaction of one model (the steps and why each is safe to
// crash after are at the top of file_storage.cc).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "core/ejson.h"
#include "storage/file_storage_internal.h"

namespace mg::file_detail {

namespace {

constexpr size_t kWriteChunk = size_t(1) << 20;

// Buffers writes to a new file into 1 MiB write()s.
class ChunkWriter {
 public:
  ChunkWriter(int fd, const std::string& path) : fd_(fd), path_(path) {}
  Status put(std::string_view s) {
    buf_.append(s);
    return buf_.size() >= kWriteChunk ? drain() : Status::OK();
  }
  Status drain() {
    Status s = write_all(fd_, buf_, path_);
    bytes_ += buf_.size();
    buf_.clear();
    return s;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  const std::string& path_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

Status at_line(const std::string& path, uint64_t line, const Status& s) {
  return make_status(ErrorCode::StorageError, path + ":" + std::to_string(line) + ": " + s.message);
}

// Copies the old snapshot's documents that `frozen` does not supersede, line by line.
Status copy_unchanged(int fd, const std::string& path, const Overlay& frozen, ChunkWriter& w) {
  LineReader r(fd);
  std::string_view line;
  bool terminated;
  std::string mp, key;
  bool check_keys = frozen.supersedes();  // else every old line is kept as it is
  while (r.next(line, terminated)) {
    if (r.line_no() == 1) {
      uint64_t seq;
      Result<bool> h = wal_parse_snapshot_header(line, seq);
      if (!h.ok()) return at_line(path, 1, h.status());
      if (h.value()) continue;
    }
    if (wal_blank(line)) continue;
    if (check_keys) {
      Status s = wal_parse_document(line, mp);
      if (!s.ok()) return at_line(path, r.line_no(), s);
      wal_id_key(MpView(mp).get("_id"), key);
      if (frozen.hides(key)) continue;
    }
    Status s = w.put(line);
    if (s.ok()) s = w.put("\n");
    if (!s.ok()) return s;
  }
  if (!r.status().ok())
    return make_status(ErrorCode::StorageError, path + ": " + r.status().message);
  return Status::OK();
}

// Streams the old snapshot and the frozen overlay into `fd`.
Status merge_into(CompactionJob& job, int fd, const std::string& tmp_path, uint64_t& bytes) {
  ChunkWriter w(fd, tmp_path);
  std::string line;
  wal_encode_snapshot_header(job.seq, line);
  Status s = w.put(line);
  if (s.ok() && !job.frozen->cleared()) {
    std::string data_path = job.dir.file(job.data_name);
    int old = ::openat(job.dir.fd->fd, job.data_name.c_str(), O_RDONLY | O_CLOEXEC);
    if (old < 0 && errno != ENOENT) return io_error("cannot open", data_path);
    if (old >= 0) {
      Fd hold(old);
      s = copy_unchanged(old, data_path, *job.frozen, w);
    }
  }
  if (s.ok())
    s = job.frozen->for_each_live([&](std::string_view doc) {
      line.clear();
      msgpack_to_ejson(MpView(doc), line);
      line.push_back('\n');
      return w.put(line);
    });
  if (s.ok()) s = w.drain();
  bytes = w.bytes();
  return s;
}

// Step 2: the new snapshot, written aside and renamed over the old one. `renamed` tells whether
// the rename happened: from then on the snapshot holds the frozen Overlay, even when the
// directory sync after it fails.
Status write_snapshot(CompactionJob& job, uint64_t& bytes, bool& renamed) {
  renamed = false;
  int dfd = job.dir.fd->fd;
  std::string tmp_name = job.data_name + ".tmp";
  std::string tmp_path = job.dir.file(tmp_name), data_path = job.dir.file(job.data_name);
  Status s;
  {
    Fd tmp(::openat(dfd, tmp_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (tmp.fd < 0) return io_error("cannot create", tmp_path);
    s = merge_into(job, tmp.fd, tmp_path, bytes);
    if (s.ok() && ::fsync(tmp.fd) != 0) s = io_error("cannot fsync", tmp_path);
  }
  if (s.ok()) {
    fault_point(Fault::AfterSnapshotTmp);
    if (::renameat(dfd, tmp_name.c_str(), dfd, job.data_name.c_str()) != 0)
      s = io_error("cannot rename " + tmp_path + " to", data_path);
  }
  if (!s.ok()) {
    ::unlinkat(dfd, tmp_name.c_str(), 0);
    return s;
  }
  renamed = true;
  // A failed directory sync is reported, but safe to retry: the WAL still has every change.
  s = fault_is(Fault::SnapshotDirSyncFails)
          ? make_status(ErrorCode::StorageError, "cannot fsync directory " + job.dir.path +
                                                     ": Input/output error (injected)")
          : sync_dir(dfd, job.dir.path);
  fault_point(Fault::AfterSnapshotRename);
  return s;
}

// Copies [from, to) of the WAL into `dst`.
Status copy_tail(WalFile& wal, uint64_t from, uint64_t to, int dst, const std::string& dst_path) {
  std::string buf(kWriteChunk, '\0');
  while (from < to) {
    size_t want = size_t(std::min<uint64_t>(to - from, buf.size()));
    ssize_t n = ::pread(wal.fd->fd, buf.data(), want, off_t(from));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return io_error("cannot read", wal.path);
    }
    Status s = write_all(dst, std::string_view(buf.data(), size_t(n)), dst_path);
    if (!s.ok()) return s;
    from += uint64_t(n);
  }
  return Status::OK();
}

// Step 3: the WAL restarts with the changes made since the freeze (under the WAL's lock).
Status reset_wal(CompactionJob& job) {
  WalFile& wal = *job.wal;
  std::lock_guard lock(wal.mu);
  if (!wal.fd) return make_status(ErrorCode::StorageError, wal.path + " is closed");
  int dfd = job.dir.fd->fd;
  std::string tmp_name = job.wal_name + ".tmp";
  std::string tmp_path = job.dir.file(tmp_name);
  auto tmp = std::make_shared<Fd>(
      ::openat(dfd, tmp_name.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (tmp->fd < 0) return io_error("cannot create", tmp_path);
  uint64_t tail = wal.size_ - job.wal_offset;
  Status s = copy_tail(wal, job.wal_offset, wal.size_, tmp->fd, tmp_path);
  if (s.ok() && ::fsync(tmp->fd) != 0) s = io_error("cannot fsync", tmp_path);
  if (s.ok()) {
    fault_point(Fault::AfterWalTmp);
    if (::renameat(dfd, tmp_name.c_str(), dfd, job.wal_name.c_str()) != 0)
      s = io_error("cannot rename " + tmp_path + " to", job.dir.file(job.wal_name));
  }
  if (!s.ok()) {
    ::unlinkat(dfd, tmp_name.c_str(), 0);
    return s;
  }
  // The new file is the WAL now, whatever happens next: append to it.
  wal.swap(std::move(tmp), tail);
  s = sync_dir(dfd, job.dir.path);
  if (!s.ok() && wal.sync_error_.ok()) wal.sync_error_ = s;  // the rename may not be durable
  fault_point(Fault::AfterWalRename);
  return s;
}

}  // namespace

void run_compaction(CompactionJob& job) {
  uint64_t bytes = 0;
  bool renamed = false;
  Status s = write_snapshot(job, bytes, renamed);
  if (!s.ok() && renamed) {
    // The new snapshot is in place but its rename may not be durable: the frozen Overlay is
    // in it (laying it back under the live one would write its documents twice at the next
    // compaction: a duplicate _id that stops the model from opening), and the WAL is not
    // restarted (after a power cut the old snapshot may be back, and it needs the whole WAL).
    std::fprintf(stderr,
                 "memgoosed: compaction of %s: the new snapshot is written but the directory "
                 "sync failed, the WAL keeps every change: %s\n",
                 job.dir.file(job.data_name).c_str(), s.message.c_str());
    job.frozen.reset();
    return job.finish(CompactionJob::State::WalResetFailed, s, bytes);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "memgoosed: compaction of %s failed (the WAL keeps every change): %s\n",
                 job.dir.file(job.data_name).c_str(), s.message.c_str());
    return job.finish(CompactionJob::State::SnapshotFailed, s, 0);
  }
  job.frozen.reset();  // in the snapshot now
  s = reset_wal(job);
  if (!s.ok()) {
    std::fprintf(stderr, "memgoosed: compaction of %s: cannot restart the WAL: %s\n",
                 job.dir.file(job.data_name).c_str(), s.message.c_str());
    return job.finish(CompactionJob::State::WalResetFailed, s, bytes);
  }
  job.finish(CompactionJob::State::Done, Status::OK(), bytes);
}

}  // namespace mg::file_detail
