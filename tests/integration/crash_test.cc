// tests/integration/crash_test.cc — every persistent backend against kill -9 (CONTRACT.md §8
// Durability; issue 5 for sqlite): a real memgoosed takes pipelined inserts, insertManys,
// updates and deletes on two models while the test keeps a ledger of what was sent and what was
// acknowledged; at a random moment it is killed with SIGKILL, restarted on the same data dir,
// and what it recovered must be, for each model, the result of some prefix of the writes sent
// that includes every acknowledged one: nothing acknowledged lost, no deleted document back, no
// insertMany half there (tests/crash/crash_run.h does the rounds, tests/crash/ledger.h the
// check). 20 kills per backend/mode; the file modes use a compactBytes small enough that
// compactions run (and get killed) all the time. memgoose-crash runs the same rounds as a
// matrix with any number of kills (docs/RELIABILITY.md).
#define BOOST_TEST_MODULE integration_crash
#include <cstdlib>
#include <fstream>
#include <random>

#include "tests/crash/crash_run.h"
#include "tests/integration/harness.h"

using namespace mg::it;

namespace {

constexpr int kKills = 20;

// The seq in a snapshot's header line (0 when there is none).
int64_t snapshot_seq(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (line.rfind(R"({"$memgoose":)", 0) != 0) return 0;
  std::string mp = J(line);
  return MpView(mp).get("$memgoose").get("seq").as_int();
}

bool has_mode(const std::string& name) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  for (auto& m : mg::crash::persistent_modes(c))
    if (m.name == name) return true;
  return false;
}

void crash_loop(const std::string& mode_name) {
  uint64_t seed = std::random_device{}();
  DaemonProcess d;
  mg::crash::Mode mode;
  {
    Client c(d.req_endpoint(), client_options());
    mode = mg::crash::find_mode(c, mode_name);
  }
  mg::crash::CrashRun run(d, mode, seed);
  BOOST_TEST_MESSAGE(mode_name << ": seed " << seed);
  for (int round = 1; round <= kKills; ++round) {
    bool ok = run.kill_round();
    BOOST_REQUIRE_MESSAGE(ok, run.report().first_failure);
  }
  // A clean stop keeps the last state exactly.
  BOOST_REQUIRE_MESSAGE(run.clean_restart(), run.report().first_failure);
  const auto& r = run.report();
  BOOST_TEST(r.kills == kKills);
  BOOST_TEST(r.acknowledged > 0, "no write was acknowledged before any kill");
  if (mode.storage == "file")
    for (auto& [model, _] : run.ledgers())
      BOOST_TEST(snapshot_seq(d.data_dir() + "/" + run.db() + "/" + model + ".data.ndjson") > 0,
                 model << ": no compaction ran");
  BOOST_TEST_MESSAGE(mode_name << ": " << r.acknowledged << " writes acknowledged, " << r.in_flight
                               << " in flight at the kills (" << r.in_flight_landed
                               << " landed) over " << r.kills << " kills in " << r.elapsed.count()
                               << " ms");
}

// Runs a test case only when the daemon offers the mode (wiredtiger is optional at build time).
boost::test_tools::assertion_result offers(const std::string& mode) {
  boost::test_tools::assertion_result r(has_mode(mode));
  if (!r) r.message() << "memgoosed offers no " << mode << " storage";
  return r;
}

// KNOWN BUG (issue 6, open): with wiredtiger, documents deleted or updated before a first
// SIGKILL sometimes come back with their old versions after a second one ("resurrected ... at
// kill 2"), in both journalSync modes. Until it is fixed these cases run only on request
// (MG_CRASH_WIREDTIGER=1), so that CI keeps guarding the other backends; memgoose-crash
// --mode wiredtiger-sync reproduces it.
boost::test_tools::assertion_result offers_wiredtiger(const std::string& mode) {
  const char* on = std::getenv("MG_CRASH_WIREDTIGER");
  if (!on || std::string(on) != "1") {
    boost::test_tools::assertion_result r(false);
    r.message() << "wiredtiger crash cases need MG_CRASH_WIREDTIGER=1 (known bug, issue 6)";
    return r;
  }
  return offers(mode);
}

}  // namespace

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_file_immediate) {
  crash_loop("file-immediate");
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_file_debounced) {
  crash_loop("file-debounced");
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_sqlite_normal) {
  crash_loop("sqlite-normal");
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_sqlite_full) {
  crash_loop("sqlite-full");
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_wiredtiger_nosync,
                     *boost::unit_test::precondition([](auto) {
                       return offers_wiredtiger("wiredtiger-nosync");
                     })) {
  crash_loop("wiredtiger-nosync");
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_wiredtiger_sync,
                     *boost::unit_test::precondition([](auto) {
                       return offers_wiredtiger("wiredtiger-sync");
                     })) {
  crash_loop("wiredtiger-sync");
}
