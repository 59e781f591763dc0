// storage/reconcile.h — putting a transactional backend's store back in line with memory after
// a failed group commit (StorageStrategy::reconcile), shared by sqlite and wiredtiger.
//
// Why. A commit can fail after the engine already wrote the group's commit into its log but
// before that log was synced: SQLite's WAL frames with their commit marker, WiredTiger's log
// record, then EIO from fsync. The engine reports the failure and the model rolls the group
// back in memory, but the next recovery (a restart; WiredTiger's reopen after the panic such a
// failure causes) finds a complete commit in the log and replays it: a write its client was
// told was not applied would come back. So after a failed commit the model asks the strategy
// to write, in a new transaction, memory's version of every document the failed group touched
// (a Delete of each, then the version memory holds, if any) and memory's last_seq. That
// transaction comes later in the log than the failed one (SQLite even writes its frames over
// the failed frames, which ends their checksum chain), so whichever recovery runs, the store
// ends up as memory: exactly the acknowledged writes.
//
// Contract. One Reconciler per strategy, used by the strategy's thread only. Its WriteFn, given
// at construction, is the backend's part: apply `changes` and persist `seq` as last_seq in ONE new
// transaction (none may be open), committed and synced to disk whatever the backend's durability
// mode (a WiredTiger home panicked before is reopened first); on error nothing of it may be relied
// on.
//   - reconcile(changes, seq): records the changes in the intent file (`path`: written
//     beside it, fsynced, renamed over it; a failure to record is reported on stderr, not
//     returned), then runs `write`. When a reconcile is still pending, its changes are merged
//     with the new ones (documents both touched take the new version), never dropped. Once `write`
//     succeeds the intent file is removed and the directory synced, and OK is returned. Otherwise
//     the reconcile stays pending and a StorageError says so: writes are refused until it is done.
//   - retry(): OK when nothing is pending; else runs `write` again with the pending
//     changes (and removes the intent file), and returns OK once that worked, or the
//     StorageError that refuses the write. A strategy calls it at the top of apply() and
//     flush(), so every write retries and none is accepted while it fails.
//   - recover(): called by open() after the engine's own recovery and before loading: a
//     leftover temporary file is removed; an intent file (a reconcile pending when the process
//     ended) is read and `write` run on it, then it is removed. StorageError naming the file if
//     it cannot be read, is not an intent file, or `write` fails (the model cannot open then:
//     loading would bring back the refused writes).
//   - The intent file is `path`, its temporary `path` + ".tmp": destroy() removes both.
//
// Guarantees (docs/RELIABILITY.md §2).
//   - Nothing acknowledged is ever overwritten: the changes are memory's versions, and no write
//     is accepted from the failed commit until the reconcile is durable and its intent file is
//     removed durably (so a stale intent file cannot be applied over later writes).
//   - Reconcile succeeded: the refused writes never come back, after a kill or a power cut.
//   - Reconcile failed (the disk still failing): reads go on with the acknowledged data; writes
//     get StorageError. A SIGKILL and restart then does not bring the refused writes back
//     either, as long as the intent file reached the OS (it is written with write(2) before
//     anything else is tried, so an fsync-only failure never prevents it): open() applies it.
//     After a power cut in that window, or if even the intent file could not be written (the
//     message on stderr says so), a refused write whose commit record made it to disk can come
//     back. The daemon cannot do better while the disk refuses to keep anything.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "storage/storage_strategy.h"

namespace mg {

class Reconciler {
 public:
  using WriteFn = std::function<Status(std::span<const Change> changes, uint64_t seq)>;

  // `path`: the intent file; `name`: the store in messages ("sqlite /data/app/User.db").
  Reconciler(std::string path, std::string name, WriteFn write)
      : path_(std::move(path)), name_(std::move(name)), write_(std::move(write)) {}

  Status reconcile(std::span<const Change> changes, uint64_t seq);
  Status retry();
  Status recover();
  bool pending() const { return !pending_.empty(); }

 private:
  // Runs `write` on the pending intent and removes the intent file durably; clears pending_ on
  // success, else returns why not.
  Status run();
  Status refused(const Status& why) const;

  std::string path_, name_;
  WriteFn write_;
  std::string pending_;  // the encoded intent while a reconcile is pending, else empty
};

// The intent, encoded as MessagePack {format: 1, seq, changes: [[op, id|nil, doc|nil], ...]}
// (op: Change::Op as an integer): what the intent file holds. decode_intent checks the bytes
// (they come from a file) and fills `changes` with views into them.
std::string encode_intent(std::span<const Change> changes, uint64_t seq);
Status decode_intent(std::string_view bytes, std::vector<Change>& changes, uint64_t& seq);

}  // namespace mg
