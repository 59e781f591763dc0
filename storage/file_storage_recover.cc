// storage/file_storage_recover.cc — FileStorage::open() (recovery) and repair_file_database().
// The rules are at the top of file_storage.cc; both use the same WAL scanner, so what open()
// refuses is exactly what repair cuts.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>

#include "storage/catalog.h"
#include "storage/file_storage_internal.h"

namespace mg::file_detail {

namespace {

// Snapshots from this size on are parsed on a helper thread (file_storage_load.cc).
constexpr uint64_t kParallelLoadBytes = uint64_t(8) << 20;

Status at_line(const std::string& path, uint64_t line, Status s) {
  s.message = path + ":" + std::to_string(line) + ": " + s.message;
  if (s.code == ErrorCode::BadValue) s.code = ErrorCode::StorageError;
  return s;
}

// What a scan found: the readable part ends at `end`; when `cut_line` is not 0 the rest of
// the file, from that line on, is torn (or, in repair mode, bad) for `reason`.
struct Scan {
  uint64_t end = 0;
  uint64_t cut_line = 0;
  std::string reason;
  uint64_t lines = 0;
};

struct OwnedRecord {
  Change::Op op;
  uint64_t seq;
  std::string key, doc;
  WalRecord view() const { return WalRecord{op, seq, true, key, doc}; }
};

// Reads the WAL batch by batch, calling apply() for every record of each complete batch.
// Strict mode: a bad record that is not on the last line is an error "<path>:<line>: why".
// Repair mode: it ends the readable part like a torn tail does.
Status scan_wal(int fd, const std::string& path, bool repair,
                const std::function<void(const WalRecord&)>& apply, Scan& out) {
  LineReader r(fd);
  std::string_view line;
  bool terminated;
  std::string scratch, key;
  std::vector<OwnedRecord> batch;
  uint64_t batch_line = 0, batch_off = 0;
  out = Scan{};
  auto cut = [&](std::string why) {
    out.cut_line = batch.empty() ? r.line_no() : batch_line;
    out.end = batch.empty() ? r.line_offset() : batch_off;
    out.reason = std::move(why);
  };
  while (r.next(line, terminated)) {
    out.lines = r.line_no();
    if (!terminated) {
      cut("the last line has no newline");
      break;
    }
    if (wal_blank(line)) {
      if (batch.empty()) out.end = r.end_offset();
      continue;
    }
    WalRecord rec;
    Status s = wal_parse_record(line, scratch, key, rec);
    if (!s.ok()) {
      if (!repair && !r.at_end()) return at_line(path, r.line_no(), s);
      cut(s.message);
      break;
    }
    if (batch.empty()) batch_line = r.line_no(), batch_off = r.line_offset();
    if (rec.more) {
      batch.push_back(OwnedRecord{rec.op, rec.seq, std::string(rec.key), std::string(rec.doc)});
      continue;
    }
    for (auto& p : batch) apply(p.view());
    apply(rec);
    batch.clear();
    out.end = r.end_offset();
  }
  if (!r.status().ok())
    return make_status(ErrorCode::StorageError, path + ": " + r.status().message);
  if (out.cut_line == 0 && !batch.empty()) {
    out.cut_line = batch_line, out.end = batch_off;
    out.reason = "the batch starting here never got its last record";
  }
  return Status::OK();
}

// Opens `name` in the directory, creating it (and syncing the directory) when absent.
Result<int> open_or_create(const Dir& dir, const std::string& name, int flags) {
  int fd = ::openat(dir.fd->fd, name.c_str(), flags | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno != ENOENT) return io_error("cannot open", dir.file(name));
  fd = ::openat(dir.fd->fd, name.c_str(), flags | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", dir.file(name));
  Status s = sync_dir(dir.fd->fd, dir.path);
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  return fd;
}

}  // namespace

Status FileStorage::open(const std::function<Status(std::string_view)>& sink) {
  if (open_ || closed_)
    return make_status(ErrorCode::StorageError, "model " + model_ + ": open() called twice");
  Status s = guard([&] { return open_files(sink); });
  if (!s.ok()) {
    release();
    live_ = Overlay();
    return s;
  }
  open_ = true;
  return Status::OK();
}

Status FileStorage::open_files(const std::function<Status(std::string_view)>& sink) {
  const Dir& dir = env_->dir;
  for (const std::string& tmp : {data_name_ + ".tmp", wal_name_ + ".tmp"})
    ::unlinkat(dir.fd->fd, tmp.c_str(), 0);  // an unfinished compaction
  std::string data_path = dir.file(data_name_);
  if (::faccessat(dir.fd->fd, data_name_.c_str(), F_OK, 0) != 0 && errno == ENOENT) {
    std::string header;  // an empty snapshot, so that both files always exist
    wal_encode_snapshot_header(0, header);
    Status s = write_file_atomically(data_path, header);
    if (!s.ok()) return s;
  }
  Result<int> sfd = open_or_create(dir, data_name_, O_RDONLY);
  if (!sfd.ok()) return sfd.status();
  Fd snap(sfd.value());
  LineReader reader(snap.fd);
  std::string_view line;
  bool terminated;
  uint64_t snapshot_seq = 0;
  std::string first;  // line 1 when it is a document (a file without a header)
  if (reader.next(line, terminated)) {
    Result<bool> h = wal_parse_snapshot_header(line, snapshot_seq);
    if (!h.ok()) return at_line(data_path, 1, h.status());
    if (!h.value()) first = std::string(line);
  }
  if (!reader.status().ok())
    return make_status(ErrorCode::StorageError, data_path + ": " + reader.status().message);
  last_seq_ = snapshot_seq;
  Status s = replay_wal(snapshot_seq);
  if (!s.ok()) return s;
  struct stat st;
  snapshot_bytes_ = ::fstat(snap.fd, &st) == 0 ? uint64_t(st.st_size) : 0;
  if (!live_.cleared()) {  // else everything in the snapshot was deleted since
    s = stream_snapshot(reader, first, data_path, live_, snapshot_bytes_ >= kParallelLoadBytes,
                        sink);
    if (!s.ok()) return s;
  }
  return live_.for_each_live([&](std::string_view doc) {
    Status e = sink(doc);
    if (!e.ok()) e.message = dir.file(wal_name_) + ": " + e.message;
    return e;
  });
}

// Opens the WAL, replays it into live_ and cuts a torn tail.
Status FileStorage::replay_wal(uint64_t snapshot_seq) {
  std::string path = env_->dir.file(wal_name_);
  Result<int> wfd = open_or_create(env_->dir, wal_name_, O_RDWR | O_APPEND);
  if (!wfd.ok()) return wfd.status();
  auto fd = std::make_shared<Fd>(wfd.value());
  Scan scan;
  Status s = scan_wal(
      fd->fd, path, false,
      [&](const WalRecord& rec) {
        last_seq_ = std::max(last_seq_, rec.seq);
        if (rec.seq > snapshot_seq) live_.apply(rec);  // older ones are in the snapshot already
      },
      scan);
  if (!s.ok()) return s;
  if (scan.cut_line != 0) {
    if (::ftruncate(fd->fd, off_t(scan.end)) != 0) return io_error("cannot truncate", path);
    std::fprintf(stderr, "memgoosed: %s: truncated torn record at line %llu (%s)\n", path.c_str(),
                 static_cast<unsigned long long>(scan.cut_line), scan.reason.c_str());
  }
  wal_ = std::make_shared<WalFile>(path, std::move(fd), scan.end);
  return Status::OK();
}

}  // namespace mg::file_detail

// ---- repair ----

namespace mg::file_detail {

namespace {

// Repair mode for a snapshot: finds the first line that open() would refuse. A header naming
// another format is returned as BadValue: such a file is left alone.
Status scan_snapshot(int fd, const std::string& path, Scan& out) {
  LineReader r(fd);
  std::string_view line;
  bool terminated;
  std::string mp;
  ValidateOptions opts;
  opts.max_bytes = 0;
  out = Scan{};
  while (r.next(line, terminated)) {
    out.lines = r.line_no();
    Status s;
    bool header = false;
    if (r.line_no() == 1) {
      uint64_t seq;
      Result<bool> h = wal_parse_snapshot_header(line, seq);
      if (!h.ok() && h.status().code == ErrorCode::BadValue) return h.status();
      s = h.status();
      header = h.ok() && h.value();
    }
    if (s.ok() && !header && !wal_blank(line)) {
      s = wal_parse_document(line, mp);
      if (s.ok()) s = validate(mp, opts);
    }
    if (!s.ok()) {
      out.cut_line = r.line_no(), out.end = r.line_offset(), out.reason = s.message;
      return Status::OK();
    }
    out.end = r.end_offset();
  }
  if (!r.status().ok())
    return make_status(ErrorCode::StorageError, path + ": " + r.status().message);
  return Status::OK();
}

std::string utc_stamp() {
  time_t t = std::time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Saves the whole file behind `fd` as a new `<path>.bad-<stamp>[-n]` and returns its name.
Result<std::string> save_copy(int fd, const std::string& path) {
  std::string base = path + ".bad-" + utc_stamp(), name;
  int out = -1;
  for (int i = 1; out < 0 && i < 1000; ++i) {
    name = i == 1 ? base : base + "-" + std::to_string(i);
    out = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0 && errno != EEXIST) return io_error("cannot create", name);
  }
  if (out < 0) return make_status(ErrorCode::StorageError, "cannot name a copy of " + path);
  Fd hold(out);
  std::string buf(size_t(1) << 20, '\0');
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", path);
    if (n == 0) break;
    Status s = write_all(out, std::string_view(buf.data(), size_t(n)), name);
    if (!s.ok()) return s;
    off += n;
  }
  if (::fsync(out) != 0) return io_error("cannot fsync", name);
  return name;
}

Status repair_file(const std::string& path, bool is_wal, std::string& report) {
  Fd f(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (f.fd < 0) return io_error("cannot open", path);
  Scan scan;
  Status s = is_wal ? scan_wal(
                          f.fd, path, true, [](const WalRecord&) {}, scan)
                    : scan_snapshot(f.fd, path, scan);
  if (s.code == ErrorCode::BadValue) {
    report += path + ": left alone: " + s.message + "\n";
    return Status::OK();
  }
  if (!s.ok()) return s;
  if (scan.cut_line == 0) {
    report += path + ": ok (" + std::to_string(scan.lines) + " lines)\n";
    return Status::OK();
  }
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return io_error("cannot stat", path);
  Result<std::string> copy = save_copy(f.fd, path);
  if (!copy.ok()) return copy.status();
  if (::ftruncate(f.fd, off_t(scan.end)) != 0 || ::fsync(f.fd) != 0)
    return io_error("cannot truncate", path);
  report += path + ": cut at line " + std::to_string(scan.cut_line) + " (" + scan.reason +
            "): kept " + std::to_string(scan.end) + " of " + std::to_string(st.st_size) +
            " bytes; the whole file was saved as " + copy.value() + "\n";
  return Status::OK();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

}  // namespace mg::file_detail

namespace mg {

Status repair_file_database(const std::string& dir, std::string& report) {
  using namespace file_detail;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return io_error("cannot open directory", dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (ends_with(n, ".data.ndjson") || ends_with(n, ".wal.ndjson")) names.emplace_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  if (names.empty()) report += dir + ": no model files of the file backend\n";
  for (const std::string& n : names) {
    Status s = repair_file(dir + "/" + n, ends_with(n, ".wal.ndjson"), report);
    if (!s.ok()) {
      report += dir + "/" + n + ": " + s.message + "\n";
      return s;
    }
  }
  return Status::OK();
}

}  // namespace mg
