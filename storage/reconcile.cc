// storage/reconcile.cc — see reconcile.h.
#include "storage/reconcile.h"

#include <absl/container/flat_hash_set.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/msgpack.h"
#include "storage/backup_files.h"

namespace mg {

namespace {

constexpr int64_t kIntentFormat = 1;

std::string parent_of(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

std::string errno_text() {
  return std::strerror(errno);
}

// unlink(2) that counts a missing file as done.
bool remove_file(const std::string& path, std::string& why) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return true;
  why = "cannot remove " + path + ": " + errno_text();
  return false;
}

// Writes `bytes` to `tmp`, fsyncs it and renames it to `path`. Returns "" on success, else what
// failed; `synced` says whether the file's and the directory's fsync worked.
std::string write_renamed(const std::string& path, const std::string& tmp, std::string_view bytes,
                          bool& synced) {
  synced = false;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot create " + tmp + ": " + errno_text();
  std::string why;
  for (size_t done = 0; why.empty() && done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) why = "cannot write " + tmp + ": " + errno_text();
    done += n > 0 ? size_t(n) : 0;
  }
  bool file_synced = why.empty() && ::fsync(fd) == 0;
  ::close(fd);
  if (why.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    why = "cannot rename " + tmp + ": " + errno_text();
  if (!why.empty()) {
    ::unlink(tmp.c_str());
    return why;
  }
  synced = file_synced && sync_directory(parent_of(path)).ok();
  return {};
}

}  // namespace

std::string encode_intent(std::span<const Change> changes, uint64_t seq) {
  size_t bytes = 32;
  for (const Change& ch : changes) bytes += ch.id.size() + ch.doc.size() + 4;
  std::string out;
  out.reserve(bytes);
  MpWriter w(out);
  w.map_header(3);
  w.str("format"), w.integer(kIntentFormat);
  w.str("seq"), w.integer(int64_t(seq));
  w.str("changes"), w.array_header(uint32_t(changes.size()));
  for (const Change& ch : changes) {
    w.array_header(3);
    w.integer(int64_t(ch.op));
    if (ch.id.empty())
      w.nil();
    else
      w.raw(ch.id);
    if (ch.doc.empty())
      w.nil();
    else
      w.raw(ch.doc);
  }
  return out;
}

Status decode_intent(std::string_view bytes, std::vector<Change>& changes, uint64_t& seq) {
  auto bad = [](const std::string& why) {
    return make_status(ErrorCode::StorageError, "not a reconcile intent: " + why);
  };
  changes.clear();
  if (bytes.empty() || !check_structure(bytes).ok()) return bad("not one MessagePack value");
  MpView top(bytes);
  if (top.type() != MpType::Map) return bad("not a map");
  MpView format = top.get("format"), s = top.get("seq"), list = top.get("changes");
  if (!format.valid() || format.type() != MpType::Int || format.as_int() != kIntentFormat)
    return bad("format is not " + std::to_string(kIntentFormat));
  if (!s.valid() || s.type() != MpType::Int || s.as_int() < 0) return bad("bad seq");
  if (!list.valid() || list.type() != MpType::Array) return bad("no changes");
  seq = uint64_t(s.as_int());
  ArrayIter it(list);
  MpView item;
  while (it.next(item)) {
    if (item.type() != MpType::Array || item.count() != 3)
      return bad("a change is not [op, id, doc]");
    MpView op = item.at(0), id = item.at(1), doc = item.at(2);
    if (op.type() != MpType::Int || op.as_int() < 0 || op.as_int() > int64_t(Change::Op::Clear))
      return bad("bad op");
    Change ch;
    ch.op = Change::Op(op.as_int());
    ch.seq = seq;
    bool needs_id = ch.op != Change::Op::Clear;
    bool needs_doc = ch.op == Change::Op::Insert || ch.op == Change::Op::Replace;
    if (needs_id == (id.type() == MpType::Nil)) return bad("bad _id");
    if (needs_doc != (doc.type() == MpType::Map)) return bad("bad document");
    if (needs_id) ch.id = id.bytes();
    if (needs_doc) ch.doc = doc.bytes();
    changes.push_back(ch);
  }
  return Status::OK();
}

Status Reconciler::reconcile(std::span<const Change> changes, uint64_t seq) {
  // A reconcile still pending (the disk kept failing, and another group failed since: with a
  // pipelined commit its apply() is what retried and refused) is merged, not replaced: its
  // documents have not been written back either. Every Delete first, then the versions memory
  // holds: the pending ones of documents the new group did not touch, then the new ones.
  std::string merged;
  if (pending()) {
    std::vector<Change> old;
    uint64_t old_seq = 0;
    if (decode_intent(pending_, old, old_seq).ok()) {
      absl::flat_hash_set<std::string_view> fresh;
      std::vector<Change> all;
      for (const Change& c : changes)
        if (c.op == Change::Op::Delete) fresh.insert(c.id);
      for (const Change& c : old)
        if (c.op == Change::Op::Delete && !fresh.contains(c.id)) all.push_back(c);
      for (const Change& c : changes)
        if (c.op == Change::Op::Delete) all.push_back(c);
      for (const Change& c : old)
        if (c.op != Change::Op::Delete && !fresh.contains(c.id)) all.push_back(c);
      for (const Change& c : changes)
        if (c.op != Change::Op::Delete) all.push_back(c);
      merged = encode_intent(all, seq);
    }
  }
  pending_ = merged.empty() ? encode_intent(changes, seq) : std::move(merged);
  // Recorded first, before the store is touched again: if the process ends before the write
  // below is durable, the next open() finishes it (reconcile.h, guarantees).
  bool synced = false;
  std::string why = write_renamed(path_, path_ + ".tmp", pending_, synced);
  if (!why.empty())
    std::fprintf(stderr,
                 "memgoosed: %s: cannot record the %zu changes that put back what a failed commit "
                 "touched (%s): until they are written, a restart may bring back refused writes\n",
                 name_.c_str(), changes.size(), why.c_str());
  else if (!synced)
    std::fprintf(stderr,
                 "memgoosed: %s: recorded the changes that put back what a failed commit touched "
                 "in %s, but could not fsync it: it survives a killed process, not a power cut\n",
                 name_.c_str(), path_.c_str());
  Status s = run();
  return s.ok() ? s : refused(s);
}

Status Reconciler::retry() {
  if (!pending()) return Status::OK();
  Status s = run();
  return s.ok() ? s : refused(s);
}

Status Reconciler::run() {
  std::vector<Change> changes;
  uint64_t seq = 0;
  Status s = decode_intent(pending_, changes, seq);
  if (s.ok()) s = write_(changes, seq);
  std::string why;
  // Removed only once the write is durable, and durably (the directory's fsync) before any
  // other write is accepted: a stale intent file applied at the next open() would overwrite
  // what was written since.
  if (s.ok() && (!remove_file(path_, why) || !remove_file(path_ + ".tmp", why)))
    s = make_status(ErrorCode::StorageError, why);
  if (s.ok()) s = sync_directory(parent_of(path_));
  if (!s.ok()) return s;
  pending_.clear();
  return Status::OK();
}

Status Reconciler::refused(const Status& why) const {
  return make_status(
      ErrorCode::StorageError,
      name_ +
          ": writes are refused until the documents touched by a failed commit are written back "
          "as they were (the commit may have reached the log before it failed, and writing them "
          "back failed too: " +
          why.message +
          "); every write tries again, reads go on with exactly the acknowledged data. Free disk "
          "space or fix the failing device; a restart also writes them back (from " +
          path_ + ")");
}

Status Reconciler::recover() {
  std::string why;
  if (!remove_file(path_ + ".tmp", why)) return make_status(ErrorCode::StorageError, why);
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status::OK();
  if (fd < 0)
    return make_status(ErrorCode::StorageError,
                       name_ + ": cannot open " + path_ + ": " + errno_text());
  std::string bytes;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) bytes.append(buf, size_t(n));
  if (n < 0) why = errno_text();
  ::close(fd);
  std::vector<Change> changes;
  uint64_t seq = 0;
  Status s = why.empty() ? decode_intent(bytes, changes, seq)
                         : make_status(ErrorCode::StorageError, "cannot read it: " + why);
  if (!s.ok())
    return make_status(ErrorCode::StorageError, name_ + ": " + path_ +
                                                    " (the documents to write back after a "
                                                    "failed commit): " +
                                                    s.message);
  std::fprintf(stderr,
               "memgoosed: %s: writing back %zu changes recorded after a failed commit (%s)\n",
               name_.c_str(), changes.size(), path_.c_str());
  pending_ = std::move(bytes);
  s = run();
  if (!s.ok()) {
    pending_.clear();
    return make_status(ErrorCode::StorageError,
                       name_ + ": cannot open until the documents recorded in " + path_ +
                           " after a failed commit are written back: " + s.message);
  }
  return Status::OK();
}

}  // namespace mg
