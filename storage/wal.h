// storage/wal.h — the on-disk record formats of the `file` backend and the pieces that read and
// write them: the snapshot header, WAL records, a chunked line reader and the Overlay (the
// changes since the snapshot, by _id). storage/file_storage.cc describes the whole design; the
// formats are defined here, beside the code that encodes them (LevelDB's log_format.h style).
//
// Snapshot `<Model>.data.ndjson`: one line per document, Extended JSON (core/ejson.h), after a
// header line naming the last change the snapshot contains:
//   {"$memgoose":{"format":1,"seq":1042}}
//   {"_id":"65a1f0c2e4b0a1b2c3d4e5f6","name":"Ada","born":{"$date":"1815-12-10T00:00:00.000Z"}}
// A file without the header (written by hand) is read as seq 0. No document can be mistaken
// for the header: field names never start with '$' (CONTRACT.md §4).
//
// WAL `<Model>.wal.ndjson`: one record per line, appended in seq order:
//   {"op":"insert","seq":1043,"id":"65a2...","doc":{"_id":"65a2...","name":"Bob"}}
//   {"op":"replace","seq":1044,"id":"65a2...","doc":{"_id":"65a2...","name":"Bobby"}}
//   {"op":"delete","seq":1045,"id":"65a1..."}
//   {"op":"clear","seq":1046}
// The records of one StorageStrategy::apply() call form a batch that recovery applies whole or
// not at all: every record of a batch but the last carries "more":true, e.g. an insertMany of
// two documents is
//   {"op":"insert","seq":1047,"more":true,"id":1,"doc":{"_id":1}}
//   {"op":"insert","seq":1048,"id":2,"doc":{"_id":2}}
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/msgpack.h"
#include "storage/storage_strategy.h"

namespace mg {

constexpr int kSnapshotFormat = 1;
constexpr std::string_view kSnapshotHeaderPrefix = R"({"$memgoose":)";

// Appends the snapshot header line (with its '\n') for a snapshot containing changes <= seq.
void wal_encode_snapshot_header(uint64_t seq, std::string& out);

// Whether `line` is a snapshot header; if so parses it into `seq`. A header that names another
// format (BadValue: a newer file, never to be cut by repair) or is malformed (StorageError) is
// an error: better stop than misread it.
Result<bool> wal_parse_snapshot_header(std::string_view line, uint64_t& seq);

// The key a document is known by in the Overlay: the Extended JSON text of its _id. Two ids
// have the same key exactly when they are the same value after a trip through the files
// (an int stays distinct from a string; the MessagePack width of an int does not matter).
void wal_id_key(MpView id, std::string& out);

// Appends one WAL record line (with its '\n') for `change`; `more` marks all but the last
// record of a batch. The id's key (wal_id_key) is the text at [*key_pos, *key_pos + *key_len)
// of `out` afterwards (not set for Clear).
void wal_encode_record(const Change& change, bool more, std::string& out, size_t* key_pos,
                       size_t* key_len);

// One parsed WAL record. `key` and `doc` point into the buffers given to wal_parse_record.
struct WalRecord {
  Change::Op op = Change::Op::Insert;
  uint64_t seq = 0;
  bool more = false;
  std::string_view key;  // wal_id_key of "id" (empty for clear)
  std::string_view doc;  // MessagePack map (insert, replace)
};

// Parses one WAL line. `scratch` and `key_buf` are overwritten and back the views of `out`.
// Returns StorageError with the reason (no file or line: the caller adds them).
Status wal_parse_record(std::string_view line, std::string& scratch, std::string& key_buf,
                        WalRecord& out);

// Parses one snapshot document line into MessagePack (`out` is overwritten) and checks that it
// is a map with an _id. StorageError with the reason on failure.
Status wal_parse_document(std::string_view line, std::string& out);

// True when `line` holds only whitespace (blank lines are skipped in both files).
bool wal_blank(std::string_view line);

// Reads a file descriptor line by line with big read()s. Lines are views into an internal
// buffer, valid until the next call. Does not own or close the descriptor.
class LineReader {
 public:
  explicit LineReader(int fd, size_t chunk = size_t(4) << 20);

  // Sets `line` to the next line (without its '\n') and returns true, or returns false at the
  // end of the file or on a read error (see status()). `terminated` is false for a last line
  // that does not end with '\n'.
  bool next(std::string_view& line, bool& terminated);
  // True when no byte follows the line last returned (may read ahead to know).
  bool at_end();

  uint64_t line_no() const { return line_no_; }         // 1-based, of the line last returned
  uint64_t line_offset() const { return line_off_; }    // file offset where it starts
  uint64_t end_offset() const { return base_ + pos_; }  // just past it (and its '\n')
  const Status& status() const { return status_; }

 private:
  bool fill();
  int fd_;
  std::string buf_;
  size_t pos_ = 0, end_ = 0;
  uint64_t base_ = 0;  // file offset of buf_[0]
  uint64_t line_no_ = 0, line_off_ = 0;
  bool eof_ = false;
  Status status_;
};

// The changes made since the snapshot, by _id key, in the order ids were first changed: the
// latest document of each inserted or replaced id, a tombstone for each deleted one, and
// whether the whole snapshot was cleared. Recovery replays the WAL into one and lays it over
// the snapshot; compaction merges one into the next snapshot. Movable, not copyable.
class Overlay {
 public:
  Overlay() = default;
  Overlay(Overlay&&) = default;
  Overlay& operator=(Overlay&&) = default;

  // `insert`: the id is new to the model (an insert can never supersede a snapshot document:
  // _id is unique), which lets merges skip looking up the snapshot's ids.
  void put(std::string_view key, std::string_view doc, bool insert);
  void erase(std::string_view key);
  void clear();
  // Applies one parsed record.
  void apply(const WalRecord& r);

  bool cleared() const { return cleared_; }
  bool empty() const { return !cleared_ && entries_.empty(); }
  // Whether the snapshot's document with this key is superseded (changed, deleted, cleared).
  bool hides(std::string_view key) const { return cleared_ || index_.contains(HashedKey(key)); }
  // Whether hides() can be true for a document of the snapshot (false while every change was
  // an insert): when not, the snapshot is used as it is, without looking at its ids.
  bool supersedes() const { return cleared_ || supersedes_; }
  size_t entries() const { return entries_.size(); }
  uint64_t doc_bytes() const { return bytes_; }

  // Calls fn(doc) for every live document, in first-change order; stops at the first non-OK.
  template <class F>
  Status for_each_live(F&& fn) const {
    for (const Entry& e : entries_)
      if (e.live) {
        Status s = fn(e.doc());
        if (!s.ok()) return s;
      }
    return Status::OK();
  }

  // After a failed compaction: lays this (newer) overlay over `older`, so that the result
  // holds every change of both, the newer winning.
  void absorb_older(Overlay&& older);

 private:
  // Where the keys and the first version of each entry's document are kept: appended to big
  // chunks that never move, so that index_ can point at them and storing one costs a copy
  // instead of an allocation (an insert of a new _id, the common change, stores both). A
  // first version superseded stays until the overlay goes (after its compaction): at most
  // one per entry, each written in the WAL too.
  class Arena {
   public:
    Arena() = default;
    Arena(Arena&& o) noexcept { *this = std::move(o); }
    Arena& operator=(Arena&& o) noexcept;
    std::string_view add(std::string_view bytes);
    // Forgets the bytes added last (`n`), which nothing points at.
    void drop_last(size_t n) { pos_ -= n, left_ += n; }
    // Adopts the chunks of `other`, whose bytes stay where they are.
    void take(Arena&& other);

   private:
    std::vector<std::unique_ptr<char[]>> chunks_;
    char* pos_ = nullptr;
    size_t left_ = 0;
  };
  struct Entry {
    std::string_view key;    // in arena_ (or, while absorb_older merges, the other overlay's)
    std::string_view first;  // the document as first put, in arena_ (empty once superseded)
    std::string later;       // a later version (a document is never empty)
    bool live = false;
    bool new_id = false;  // its first change here was an insert: not in the snapshot
    std::string_view doc() const { return later.empty() ? first : std::string_view(later); }
  };
  Entry& slot(std::string_view key, bool& created);
  void append(Entry&& e);
  std::deque<Entry> entries_;  // a deque: entries never move as it grows
  // index_'s key: an id's key and its hash, computed once (growing the table moves every key
  // to a new slot by its hash: from the stored value, not by hashing the text again).
  struct HashedKey {
    std::string_view text;
    size_t hash;
    explicit HashedKey(std::string_view t) : text(t), hash(std::hash<std::string_view>{}(t)) {}
    HashedKey(std::string_view t, size_t h) : text(t), hash(h) {}
    bool operator==(const HashedKey& o) const { return text == o.text; }
  };
  struct KeyHash {
    size_t operator()(const HashedKey& k) const { return k.hash; }
  };
  absl::flat_hash_map<HashedKey, size_t, KeyHash> index_;  // entries_ position of each key
  Arena arena_;
  bool cleared_ = false;
  bool supersedes_ = false;  // some entry is not new_id
  uint64_t bytes_ = 0;
};

}  // namespace mg
