// tests/crash/ledger.h — the client's ledger of one model's writes in a crash test, and the
// check a recovered model must pass against it.
//
// A crash test sends writes to a model, each touching some `_id`s and leaving them at a version
// (or deleting them); replies of one model come in arrival order, so the acknowledged writes
// are always the first `acked` of those sent. After the daemon is killed and restarted, what it
// recovered (id -> version) must be the state after SOME prefix of the writes sent that covers
// every acknowledged one: the writes in flight at the kill may or may not have landed, but in
// order and whole (an insertMany is all or nothing).
//
// matching_prefix() is that check. diagnose() explains a failure id by id, in the contract's
// terms: a `lost` id lacks an acknowledged write (absent, or at an older version), a
// `resurrected` id is back at a value it had before an acknowledged delete, a `phantom` id is at
// a value no write ever gave it. An id can pass diagnose() while the whole state still matches
// no prefix (a half-applied insertMany, writes landed out of order): `torn` counts those.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mg::crash {

// id -> version; an absent id is a document that is not there.
using State = std::map<int64_t, int64_t>;

// One write as sent: the ids it touches and the version it leaves them at (nullopt: deleted).
struct Write {
  std::vector<int64_t> ids;
  std::optional<int64_t> version;
};

void apply_write(State& s, const Write& w);

struct Diagnosis {
  int64_t lost = 0, resurrected = 0, phantom = 0, torn = 0;
  std::string examples;  // the first few offending ids, readable
  bool clean() const { return lost + resurrected + phantom + torn == 0; }
};

class Ledger {
 public:
  Ledger() = default;
  // A ledger that starts from a state known to be on disk (after a verified restart).
  explicit Ledger(State base) : base_(base), intended_(std::move(base)) {}
  // The ledger of the next round, starting from `recovered`; it remembers every value this
  // one knew of, so that diagnose() can tell a value from an earlier round (lost, resurrected)
  // from one never written (phantom).
  Ledger next_round(const State& recovered) const;

  // Records a write about to be sent; returns its index (the order replies come in).
  size_t record(Write w);
  // The reply to write `index` came back ok. Returns false when replies came out of order.
  bool acknowledge(size_t index);

  // The smallest prefix length >= acked() whose state is `actual`, or -1 when none is.
  int64_t matching_prefix(const State& actual) const;
  // Per-id classification of how `actual` departs from the ledger (see the top of the file).
  Diagnosis diagnose(const State& actual) const;

  size_t sent() const { return sent_.size(); }
  size_t acked() const { return acked_; }
  // base + every write sent: what new writes are chosen from.
  const State& intended() const { return intended_; }

 private:
  State base_;
  std::map<int64_t, std::vector<int64_t>> earlier_;  // id -> versions before base_
  std::vector<Write> sent_;
  size_t acked_ = 0;
  State intended_;
};

}  // namespace mg::crash
