// storage/wal.cc — see wal.h for the formats.
#include "storage/wal.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "core/ejson.h"

namespace mg {

namespace {

Status bad(std::string why) {
  return make_status(ErrorCode::StorageError, std::move(why));
}

void put_uint(uint64_t v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, size_t(r.ptr - buf));
}

std::string_view op_name(Change::Op op) {
  switch (op) {
    case Change::Op::Insert:
      return "insert";
    case Change::Op::Replace:
      return "replace";
    case Change::Op::Delete:
      return "delete";
    case Change::Op::Clear:
      return "clear";
  }
  return "?";
}

bool op_from_name(std::string_view s, Change::Op& op) {
  for (auto o : {Change::Op::Insert, Change::Op::Replace, Change::Op::Delete, Change::Op::Clear})
    if (op_name(o) == s) {
      op = o;
      return true;
    }
  return false;
}

// JSON text of a value for an error message, cut short.
std::string shown(MpView v) {
  std::string s;
  msgpack_to_ejson(v, s);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace

void wal_encode_snapshot_header(uint64_t seq, std::string& out) {
  out += kSnapshotHeaderPrefix;
  out += R"({"format":)";
  put_uint(uint64_t(kSnapshotFormat), out);
  out += R"(,"seq":)";
  put_uint(seq, out);
  out += "}}\n";
}

Result<bool> wal_parse_snapshot_header(std::string_view line, uint64_t& seq) {
  size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos ||
      line.substr(start, kSnapshotHeaderPrefix.size()) != kSnapshotHeaderPrefix)
    return false;
  std::string mp;
  Status s = ejson_to_msgpack(line, mp);
  if (!s.ok()) return bad("bad snapshot header: " + s.message);
  MpView root(mp);
  MpView h = root.type() == MpType::Map ? root.get("$memgoose") : MpView();
  if (!h.valid() || h.type() != MpType::Map) return bad("bad snapshot header");
  MpView format = h.get("format"), sq = h.get("seq");
  if (!format.valid() || format.type() != MpType::Int || format.as_int() != kSnapshotFormat)
    return make_status(
        ErrorCode::BadValue,
        "snapshot format " + (format.valid() ? shown(format) : std::string("missing")) +
            " is not supported (this build reads format " + std::to_string(kSnapshotFormat) + ")");
  if (!sq.valid() || sq.type() != MpType::Int || sq.as_int() < 0)
    return bad("snapshot header has no valid seq");
  seq = uint64_t(sq.as_int());
  return true;
}

void wal_id_key(MpView id, std::string& out) {
  out.clear();
  msgpack_to_ejson(id, out);
}

void wal_encode_record(const Change& ch, bool more, std::string& out, size_t* key_pos,
                       size_t* key_len) {
  // The record's constant text goes in with as few appends as possible: this runs for every
  // document a file model writes, on the model's thread.
  static constexpr std::string_view kHead[] = {
      R"({"op":"insert","seq":)", R"({"op":"replace","seq":)", R"({"op":"delete","seq":)",
      R"({"op":"clear","seq":)"};
  out += kHead[size_t(ch.op)];
  put_uint(ch.seq, out);
  if (ch.op == Change::Op::Clear) {
    out += more ? std::string_view(",\"more\":true}\n") : std::string_view("}\n");
    return;
  }
  out += more ? std::string_view(R"(,"more":true,"id":)") : std::string_view(R"(,"id":)");
  *key_pos = out.size();
  msgpack_to_ejson(MpView(ch.id), out);
  *key_len = out.size() - *key_pos;
  if (ch.op == Change::Op::Insert || ch.op == Change::Op::Replace) {
    out += R"(,"doc":)";
    msgpack_to_ejson(MpView(ch.doc), out);
  }
  out += "}\n";
}

Status wal_parse_record(std::string_view line, std::string& scratch, std::string& key_buf,
                        WalRecord& out) {
  scratch.clear();
  Status s = ejson_to_msgpack(line, scratch);
  if (!s.ok()) return bad(s.message);
  MpView root(scratch);
  if (root.type() != MpType::Map) return bad("a WAL record must be a JSON object");
  MpView op, seq, more, id, doc;
  MapIter it(root);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    if (k == "op")
      op = v;
    else if (k == "seq")
      seq = v;
    else if (k == "more")
      more = v;
    else if (k == "id")
      id = v;
    else if (k == "doc")
      doc = v;
    else
      return bad("unknown field '" + std::string(k) + "' in WAL record");
  }
  out = WalRecord{};
  if (!op.valid() || op.type() != MpType::Str || !op_from_name(op.as_str(), out.op))
    return bad("'op' must be \"insert\", \"replace\", \"delete\" or \"clear\"");
  if (!seq.valid() || seq.type() != MpType::Int || seq.as_int() < 0)
    return bad("'seq' must be an integer >= 0");
  out.seq = uint64_t(seq.as_int());
  if (more.valid() && more.type() != MpType::Bool) return bad("'more' must be true or false");
  out.more = more.valid() && more.as_bool();
  if (out.op != Change::Op::Clear) {
    if (!id.valid() || id.type() == MpType::Nil) return bad("'id' is missing");
    wal_id_key(id, key_buf);
    out.key = key_buf;
  }
  bool wants_doc = out.op == Change::Op::Insert || out.op == Change::Op::Replace;
  if (wants_doc) {
    if (!doc.valid() || doc.type() != MpType::Map) return bad("'doc' must be an object");
    MpView doc_id = doc.get("_id");
    if (!doc_id.valid()) return bad("'doc' has no _id");
    out.doc = doc.bytes();
  }
  return Status::OK();
}

Status wal_parse_document(std::string_view line, std::string& out) {
  out.clear();
  Status s = ejson_to_msgpack(line, out);
  if (!s.ok()) return bad(s.message);
  MpView root(out);
  if (root.type() != MpType::Map) return bad("a document must be a JSON object");
  if (!root.get("_id").valid()) return bad("the document has no _id");
  return Status::OK();
}

bool wal_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// ---- LineReader ----

LineReader::LineReader(int fd, size_t chunk) : fd_(fd) {
  buf_.resize(chunk);
}

bool LineReader::fill() {
  if (eof_ || !status_.ok()) return false;
  if (pos_ > 0) {  // keep the partial line, drop what was consumed
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    base_ += pos_;
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status_ =
          make_status(ErrorCode::StorageError, std::string("read failed: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) eof_ = true;
    end_ += size_t(n);
    return n > 0;
  }
}

bool LineReader::next(std::string_view& line, bool& terminated) {
  size_t scan = pos_;
  for (;;) {
    const void* nl = std::memchr(buf_.data() + scan, '\n', end_ - scan);
    if (nl) {
      size_t at = size_t(static_cast<const char*>(nl) - buf_.data());
      line = std::string_view(buf_.data() + pos_, at - pos_);
      line_off_ = base_ + pos_;
      pos_ = at + 1;
      terminated = true;
      ++line_no_;
      return true;
    }
    size_t consumed = pos_;
    scan = end_;
    if (!fill()) break;
    scan -= consumed;  // fill() moved the partial line to the front
  }
  if (pos_ == end_) return false;
  line = std::string_view(buf_.data() + pos_, end_ - pos_);
  line_off_ = base_ + pos_;
  pos_ = end_;
  terminated = false;
  ++line_no_;
  return true;
}

bool LineReader::at_end() {
  if (pos_ < end_) return false;
  fill();
  return pos_ == end_;
}

// ---- Overlay ----

Overlay::Arena& Overlay::Arena::operator=(Arena&& o) noexcept {
  chunks_ = std::move(o.chunks_);
  pos_ = std::exchange(o.pos_, nullptr);
  left_ = std::exchange(o.left_, 0);
  return *this;
}

std::string_view Overlay::Arena::add(std::string_view bytes) {
  constexpr size_t kChunk = size_t(64) << 10;
  if (bytes.empty()) return {};
  if (left_ < bytes.size()) {
    size_t n = std::max(kChunk, bytes.size());
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(n));
    pos_ = chunks_.back().get(), left_ = n;
  }
  std::memcpy(pos_, bytes.data(), bytes.size());
  std::string_view stored(pos_, bytes.size());
  pos_ += bytes.size(), left_ -= bytes.size();
  return stored;
}

void Overlay::Arena::take(Arena&& other) {
  for (auto& c : other.chunks_) chunks_.push_back(std::move(c));
  other = Arena();
}

// One hash of the key: it is stored first and taken back when the id has an entry already.
Overlay::Entry& Overlay::slot(std::string_view key, bool& created) {
  HashedKey hashed(key);
  std::string_view stored = arena_.add(key);
  auto [it, inserted] = index_.try_emplace(HashedKey(stored, hashed.hash), entries_.size());
  created = inserted;
  if (!inserted) {
    arena_.drop_last(key.size());
    return entries_[it->second];
  }
  try {
    Entry& e = entries_.emplace_back();
    e.key = stored;
    return e;
  } catch (...) {
    index_.erase(it);
    throw;
  }
}

void Overlay::put(std::string_view key, std::string_view doc, bool insert) {
  bool created;
  Entry& e = slot(key, created);
  if (created) e.new_id = insert, supersedes_ = supersedes_ || !insert;
  bytes_ = bytes_ - e.doc().size() + doc.size();
  if (created)
    e.first = arena_.add(doc);
  else
    e.first = {}, e.later.assign(doc);
  e.live = true;
}

void Overlay::erase(std::string_view key) {
  bool created;
  Entry& e = slot(key, created);
  if (created) e.new_id = false, supersedes_ = true;  // it was there before this overlay
  bytes_ -= e.doc().size();
  e.first = {};
  e.later.clear();
  e.later.shrink_to_fit();
  e.live = false;
}

void Overlay::clear() {
  index_.clear();
  entries_.clear();
  arena_ = Arena();
  bytes_ = 0;
  cleared_ = true;
}

void Overlay::apply(const WalRecord& r) {
  switch (r.op) {
    case Change::Op::Insert:
      put(r.key, r.doc, true);
      break;
    case Change::Op::Replace:
      put(r.key, r.doc, false);
      break;
    case Change::Op::Delete:
      erase(r.key);
      break;
    case Change::Op::Clear:
      clear();
      break;
  }
}

void Overlay::append(Entry&& e) {
  supersedes_ = supersedes_ || !e.new_id;
  bytes_ += e.doc().size();
  Entry& added = entries_.emplace_back(std::move(e));
  index_.emplace(HashedKey(added.key), entries_.size() - 1);
}

void Overlay::absorb_older(Overlay&& older) {
  if (cleared_) return;  // a clear since then hides everything older
  Overlay merged;
  merged.cleared_ = older.cleared_;
  for (Entry& e : older.entries_) {
    auto it = index_.find(HashedKey(e.key));
    if (it != index_.end()) {  // changed again since: the newer version, the older flag
      Entry& newer = entries_[it->second];
      e.first = newer.first;
      e.later = std::move(newer.later);
      e.live = newer.live;
      newer.key = {};  // taken
    }
    merged.append(std::move(e));
  }
  for (Entry& e : entries_)
    if (!e.key.empty()) merged.append(std::move(e));
  merged.arena_.take(std::move(older.arena_));
  merged.arena_.take(std::move(arena_));
  *this = std::move(merged);
}

}  // namespace mg
