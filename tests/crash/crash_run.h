// tests/crash/crash_run.h — one persistent backend/mode against SIGKILL: a real memgoosed (a
// DaemonProcess) takes a pipelined mix of insertOne, insertMany (5 documents), updateOne and
// deleteOne on two models from one client that keeps a Ledger (ledger.h) per model; at a random
// moment 30–280 ms into the round the daemon is killed with SIGKILL, with requests in flight,
// then restarted on the same data dir, and every model's documents must pass the ledger's check:
// nothing acknowledged lost, nothing deleted back, no document in a state never written, no
// batch half applied. Every document read back must also be byte-for-byte what was written
// (its JSON), so a torn document fails too.
//
// Used by the ctest-sized Boost.Test case (tests/integration/crash_test.cc) and by the
// parameterised matrix program memgoose-crash (tests/crash/crash_matrix.cc). Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "clients/cpp/client.h"
#include "tests/crash/ledger.h"
#include "tests/integration/daemon_process.h"

namespace mg::crash {

// A persistent backend and its options: one column of the matrix.
struct Mode {
  std::string name;     // e.g. "file-immediate", "sqlite-full"
  std::string storage;  // createDatabase `storage`
  std::string options;  // createDatabase `options`, as JSON
};

// Every persistent backend/mode the daemon behind `c` offers (`hello`'s storages): file
// immediate and debounced (with a compactBytes small enough that compactions run, and get
// killed, all the time), sqlite synchronous normal and full, and wiredtiger journalSync false
// and true when it is listed.
std::vector<Mode> persistent_modes(client::Client& c);
// The mode called `name` from persistent_modes; throws std::invalid_argument for none.
Mode find_mode(client::Client& c, const std::string& name);

// Totals over the rounds run so far.
struct CrashReport {
  int kills = 0;
  int64_t acknowledged = 0;      // writes acknowledged before their round's kill
  int64_t in_flight = 0;         // writes sent but not acknowledged when the daemon was killed
  int64_t in_flight_landed = 0;  // of those, found applied after the restart
  Diagnosis damage;              // summed over the rounds (all zero when the backend is right)
  int64_t failures = 0;          // checks failed, unexpected replies, unclean exits
  std::string first_failure;     // with the daemon's log tail
  std::chrono::milliseconds elapsed{0};
};

class CrashRun {
 public:
  // Creates the database `crash_<mode name>` on `d` (which must be running).
  CrashRun(testing::DaemonProcess& d, Mode mode, uint64_t seed);

  // One round: writes until a random moment, SIGKILL, restart, check. Returns false (and
  // counts it in report().failures) when the check fails or a write got an unexpected reply; the
  // ledger then restarts from what was recovered, so later rounds still test something.
  bool kill_round();
  // SIGTERM, restart, and the state must be exactly every write acknowledged.
  bool clean_restart();

  // On the first failure, copy the daemon's data dir (as recovered) to `dir` for a post-mortem.
  void keep_data_on_failure(std::string dir) { keep_dir_ = std::move(dir); }

  const Mode& mode() const { return mode_; }
  const std::string& db() const { return db_; }
  uint64_t seed() const { return seed_; }
  const CrashReport& report() const { return report_; }
  // The models written to, with their ledgers.
  const std::map<std::string, Ledger>& ledgers() const { return ledgers_; }

 private:
  client::Request next_write(const std::string& model, Write& w);
  void write_until(std::chrono::steady_clock::time_point kill_at);
  bool check(const char* when, bool exact);
  void fail(const std::string& why);

  testing::DaemonProcess& d_;
  Mode mode_;
  std::string db_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::map<std::string, Ledger> ledgers_;
  int64_t next_id_ = 1, next_version_ = 1;
  std::string bad_reply_;
  std::string keep_dir_;
  CrashReport report_;
};

}  // namespace mg::crash
