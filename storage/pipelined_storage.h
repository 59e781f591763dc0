// storage/pipelined_storage.h — a StorageStrategy that commits on a thread of its own, so a
// model's actor can go on applying the next writes while the last group is written and synced.
//
// Without it a model's actor does everything in turn: apply the group's writes to memory, have
// the storage encode and write them, wait for the fdatasync or the transaction commit, answer,
// and only then look at the next request. With it (DESIGN.md decision 4, pipelined):
//
//   actor thread:   apply group k+1 to memory ......... apply group k+2 ...
//   storage thread: write + sync group k ... | write + sync group k+1 ...
//
// apply() only records the changes in the open group (a reference to each document's engine
// block, Change::ref, or else a copy; nothing can fail there); submit() hands the open group to
// the storage thread, which calls the inner strategy's apply_and_commit() once for the whole
// group (its apply() then commit(), in one call), and reports {ticket, status} through poll()
// after calling the `notify` callback (the actor sends itself a message from it; it also asks
// completed() after every request, which lands a finished group without waiting for that
// message behind the requests queued in its mailbox). At most one
// group is on the storage thread at a time: submit() waits for the last
// one when it is still running, so a failed group never has a later one committed behind it —
// the actor rolls memory back to the failed group's start (Collection::UndoMark), discards the
// open group (discard_open()) and reconciles, exactly as after a synchronous commit failure.
//
// Every other call (open, flush, stats, set_indexes, backup, reconcile, destroy, close, and the
// synchronous commit()) first waits until the storage thread is idle and then runs on the
// caller's thread, so the inner strategy is still used by one thread at a time. commit() runs
// the open group's apply and commit right there (the synchronous path: flush, backup, catalog
// changes); its result is returned, not reported through poll().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/storage_strategy.h"

namespace mg {

class PipelinedStorage final : public StorageStrategy {
 public:
  struct Completion {
    uint64_t ticket = 0;
    Status status;
  };

  // `notify` is called on the storage thread after each completion is queued for poll().
  PipelinedStorage(std::unique_ptr<StorageStrategy> inner, std::function<void()> notify);
  ~PipelinedStorage() override;  // waits for the group in flight, then closes the inner one

  // Hands the open group to the storage thread (waiting first while one is still there).
  // Returns its ticket, 0 when the open group is empty (nothing is submitted then).
  uint64_t submit();
  // True while a submitted group has not been reported by poll() yet.
  bool in_flight() const;
  // Takes the oldest completion not taken yet; false when there is none.
  bool poll(Completion& out);
  // True when poll() has a completion to give: one atomic load, cheap enough to ask after
  // every request (the actor lands a finished group without waiting for `notify`'s message).
  bool completed() const { return completions_.load(std::memory_order_acquire) > 0; }
  // Blocks until the storage thread has finished its group, if any.
  void wait_idle() const;
  // Forgets the open group's changes (the actor rolled them back in memory).
  void discard_open();
  // Changes in the open group (documents written, deleted, ...).
  size_t open_changes() const { return open_.recs.size(); }

  Status open(const std::function<Status(std::string_view doc)>& sink) override;
  uint64_t last_seq() const override;
  Status apply(std::span<const Change> changes) override;
  Status commit() override;
  Status reconcile(std::span<const Change> changes, uint64_t seq) override;
  Status flush() override;
  void close() override;
  Status destroy() override;
  StorageStats stats() const override;
  Status set_indexes(const std::vector<IndexSpec>& indexes) override;
  Result<bool> backup(const std::string& dir) override;

 private:
  // One group's changes, owning their bytes: a change whose document came with its engine
  // block (Change::ref) holds a reference to it, and its id and document are offsets into that
  // block; the others' ids and documents are copied into `bytes`, their offsets into it (views
  // are made once the group no longer grows). Sharing the block saves the actor's thread a copy
  // of every document it inserts or replaces (issue 6).
  struct Group {
    struct Rec {
      Change::Op op;
      uint64_t seq;
      size_t id_off, id_len, doc_off, doc_len;
      DocRef ref;      // set: the offsets are into ref.bytes()
      bool id_in_ref;  // the id's offset is into ref.bytes() too (else into `bytes`)
    };
    std::string bytes;
    std::vector<Rec> recs;
    uint64_t ticket = 0;
  };
  Status run(const Group& g);  // inner apply_and_commit of one group
  void loop();
  // The buffers of a finished group, emptied, for the next open group: growing a fresh one
  // for every group (hundreds of KB for insertMany batches) cost the actor's thread page
  // faults and malloc's slow paths, and freeing it on the storage thread cost that one too.
  Group recycled();

  std::unique_ptr<StorageStrategy> inner_;
  std::function<void()> notify_;
  Group open_;
  uint64_t next_ticket_ = 1;
  std::vector<Change> changes_;  // run()'s views of a group, reused (whoever runs it owns it)

  mutable std::mutex mu_;
  mutable std::condition_variable work_cv_, idle_cv_;
  std::unique_ptr<Group> queued_;  // the submitted group not yet taken by the thread
  std::unique_ptr<Group> spare_;   // a finished group's buffers (recycled())
  bool busy_ = false;              // the thread is running a group
  bool stop_ = false;
  size_t unreported_ = 0;  // submitted groups poll() has not returned yet
  std::deque<Completion> done_;
  std::atomic<size_t> completions_{0};  // done_.size(), for completed()
  std::thread thread_;
};

}  // namespace mg
