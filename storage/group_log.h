// storage/group_log.h — the open group-commit transaction of a transactional backend (sqlite,
// wiredtiger): its changes as the backend encoded them, what became of it, and its seq.
//
// Both backends run a group (every apply() since the last commit()) in one transaction of
// their engine, and both engines may abandon that whole transaction when one statement fails
// (SQLite on SQLITE_FULL/IOERR/NOMEM, WiredTiger always: it has no savepoints). The calls that
// succeeded before must then be replayed into a new transaction, so that a failed call costs
// only itself (storage_strategy.h). A GroupLog keeps what is needed for that replay.
//
// Contract (one GroupLog per strategy, used by the strategy's thread only):
//   - add(ch, key, doc) appends an entry for `ch`, with `key(out)` appending the backend's
//     encoding of its _id (not called for Clear) and `doc(out)` that of its document (only for
//     Insert and Replace), into one text buffer that is reused from one transaction to the
//     next. key()/doc() view an entry's bytes; they, and any pointer into them, stay valid
//     until the next add(), cut() or end().
//   - mark()/cut(): a failed apply() call cuts its own entries off again; the entries left are
//     exactly the calls that succeeded since the transaction began.
//   - lose(head): the backend abandoned the transaction and replaying it failed: the group is
//     lost. lost() is then that StorageError (`head` + how many changes were lost): every later
//     apply() must fail with it, until commit() calls take_lost(), which ends the group (the
//     caller rolls it back in memory) and returns the error; later groups go on.
//   - seq: applied(seq) raises last_seq() (after each successful apply() call); end(true)
//     makes it the committed seq, end(false) and take_lost() put it back to committed_seq();
//     reset_seq(seq) sets both (open(), a reopen, a reconcile: storage/reconcile.h).
//   - end(committed) ends the transaction either way: the entries are cleared (and a buffer
//     grown past 64 MiB by a huge group is released).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "storage/storage_strategy.h"

namespace mg {

class GroupLog {
 public:
  // One change of the open transaction, as offsets into the text buffer (key, then document).
  struct Entry {
    Change::Op op;
    size_t key_off, key_len, doc_off, doc_len;
  };
  struct Mark {
    size_t entries, bytes;
  };

  template <class KeyFn, class DocFn>
  const Entry& add(const Change& ch, KeyFn&& key, DocFn&& doc) {
    Entry e{ch.op, text_.size(), 0, 0, 0};
    if (ch.op != Change::Op::Clear) key(text_);
    e.key_len = text_.size() - e.key_off;
    e.doc_off = text_.size();
    if (ch.op == Change::Op::Insert || ch.op == Change::Op::Replace) doc(text_);
    e.doc_len = text_.size() - e.doc_off;
    entries_.push_back(e);
    return entries_.back();
  }

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  std::string_view key(const Entry& e) const { return {text_.data() + e.key_off, e.key_len}; }
  std::string_view doc(const Entry& e) const { return {text_.data() + e.doc_off, e.doc_len}; }
  size_t bytes() const { return text_.size(); }  // StorageStats::pending_bytes

  Mark mark() const { return {entries_.size(), text_.size()}; }
  void cut(Mark m) {
    entries_.resize(m.entries);
    text_.resize(m.bytes);
  }

  void lose(const std::string& head) {
    lost_ = make_status(ErrorCode::StorageError, head + "; " + std::to_string(entries_.size()) +
                                                     " changes since the last commit are lost");
  }
  const Status& lost() const { return lost_; }
  Status take_lost() {
    if (lost_.ok()) return Status::OK();
    end(false);
    return std::exchange(lost_, Status::OK());
  }

  uint64_t last_seq() const { return last_seq_; }
  uint64_t committed_seq() const { return committed_seq_; }
  void applied(uint64_t seq) { last_seq_ = std::max(last_seq_, seq); }
  void reset_seq(uint64_t seq) { last_seq_ = committed_seq_ = seq; }

  void end(bool committed) {
    entries_.clear();
    text_.clear();
    if (text_.capacity() > (64u << 20)) text_.shrink_to_fit();
    if (committed)
      committed_seq_ = last_seq_;
    else
      last_seq_ = committed_seq_;
  }

 private:
  std::vector<Entry> entries_;
  std::string text_;
  Status lost_;
  uint64_t last_seq_ = 0, committed_seq_ = 0;
};

}  // namespace mg
