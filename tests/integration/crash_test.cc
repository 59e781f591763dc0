// tests/integration/crash_test.cc — every persistent backend against kill -9 (CONTRACT.md §8
// Durability; issue 5 for sqlite): a real memgoosed takes pipelined inserts, insertManys,
// updates and deletes on two models while the test keeps a ledger of what was sent and what was
// acknowledged; at a random moment it is killed with SIGKILL, restarted on the same data dir,
// and what it recovered must be, for each model, the result of some prefix of the writes sent
// that includes every acknowledged one: nothing acknowledged lost, no deleted document back, no
// insertMany half there (tests/crash/crash_run.h does the rounds, tests/crash/ledger.h the
// check). 20 kills per backend/mode; the file modes use a compactBytes small enough that
// compactions run (and get killed) all the time. memgoose-crash runs the same rounds as a
// matrix with any number of kills (docs/RELIABILITY.md). The a_model_missing_from_the_catalog
// cases replay one kill exactly: between a new model's first commit and its catalog write.
#define BOOST_TEST_MODULE integration_crash
#include <cstdlib>
#include <fstream>
#include <iterator>
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

// A model created by its first write, killed after that write's commit but before the catalog
// write its reply waits for: nothing was acknowledged, and after the restart the model does not
// exist. Its storage is still on disk; it must not come back when the model is created again
// (issue 6: with wiredtiger, whose home takes longest to create, the crash matrix found such
// documents "resurrected" after a second kill). The kill is replayed exactly: a clean stop,
// then the model's entry taken out of memgoose.catalog.json.
void uncataloged_storage_is_not_reloaded(const std::string& mode_name) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  mg::crash::Mode mode = mg::crash::find_mode(c, mode_name);
  const std::string db = "orphan";
  c.create_database(db, mode.storage, J(mode.options));
  for (int i = 1; i <= 20; ++i) c.insert_one(db, "M", J(R"({"_id":)" + std::to_string(i) + "}"));
  BOOST_REQUIRE_EQUAL(c.count(db, "M"), 20);
  BOOST_REQUIRE_MESSAGE(d.stop() == 0, d.log());

  const std::string catalog = d.data_dir() + "/" + db + "/memgoose.catalog.json";
  std::string text;
  {
    std::ifstream in(catalog);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string entry = R"({"name":"M","schema":{}})";
  size_t at = text.find(entry);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no entry for M in " << text);
  text.erase(at, entry.size());
  std::ofstream(catalog, std::ios::trunc) << text;

  d.start();
  Client c2(d.req_endpoint(), client_options());
  BOOST_TEST(names_of(c2.list_models(db).get("models")).empty());
  BOOST_TEST(c2.count(db, "M") == 0);
  c2.insert_one(db, "M", J(R"({"_id":100})"));
  std::vector<std::string> ids;
  for (auto& doc : c2.find(db, "M")) ids.push_back(js(MpView(doc).get("_id")));
  BOOST_TEST(ids == std::vector<std::string>{"100"}, boost::test_tools::per_element());
  BOOST_REQUIRE_MESSAGE(d.stop() == 0, d.log());
  d.start();
  Client c3(d.req_endpoint(), client_options());
  BOOST_TEST(c3.count(db, "M") == 1);
  BOOST_TEST(d.stop() == 0, d.log());
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
                       return offers("wiredtiger-nosync");
                     })) {
  crash_loop("wiredtiger-nosync");
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_wiredtiger_sync,
                     *boost::unit_test::precondition([](auto) {
                       return offers("wiredtiger-sync");
                     })) {
  crash_loop("wiredtiger-sync");
}

BOOST_AUTO_TEST_CASE(a_model_missing_from_the_catalog_starts_empty_file) {
  uncataloged_storage_is_not_reloaded("file-immediate");
}

BOOST_AUTO_TEST_CASE(a_model_missing_from_the_catalog_starts_empty_sqlite) {
  uncataloged_storage_is_not_reloaded("sqlite-full");
}

BOOST_AUTO_TEST_CASE(a_model_missing_from_the_catalog_starts_empty_wiredtiger,
                     *boost::unit_test::precondition([](auto) {
                       return offers("wiredtiger-sync");
                     })) {
  uncataloged_storage_is_not_reloaded("wiredtiger-sync");
}
