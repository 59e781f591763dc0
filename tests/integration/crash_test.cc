// tests/integration/file_crash_test.cc — the `file` backend against kill -9 (CONTRACT.md §8
// Durability): a real memgoosed takes pipelined inserts, insertManys, updates and deletes on
// two models while the test keeps a ledger of what was sent and what was acknowledged; at a
// random moment it is killed with SIGKILL, restarted on the same data dir, and what it
// recovered must be, for each model, the result of some prefix of the writes sent that
// includes every acknowledged one: nothing acknowledged lost, no deleted document back, no
// insertMany half there. 20 kills per persistMode, with a compactBytes small enough that
// compactions run (and get killed) all the time.
#define BOOST_TEST_MODULE integration_file_crash
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include "tests/integration/harness.h"

using namespace mg::it;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kKills = 20;
constexpr const char* kModels[] = {"A", "B"};

// id -> version; an absent id is a document that is not there.
using State = std::map<int64_t, int64_t>;

// One write as sent: the ids it touches and the version it leaves them at (none: deleted).
struct Write {
  std::vector<int64_t> ids;
  std::optional<int64_t> version;
  Write() = default;
  Write(std::vector<int64_t> i, std::optional<int64_t> v) : ids(std::move(i)), version(v) {}
};

void apply_write(State& s, const Write& w) {
  for (int64_t id : w.ids) {
    if (w.version)
      s[id] = *w.version;
    else
      s.erase(id);
  }
}

// What one model must recover: `base` (known after the last restart), then the writes sent
// since, of which the first `acked` were acknowledged (replies of one model come in order).
struct Ledger {
  State base;
  std::vector<Write> sent;
  size_t acked = 0;
  State intended;  // base + every write sent: where new writes are chosen

  // The smallest prefix length >= acked whose state is `actual`, or -1 when none is.
  int64_t matching_prefix(const State& actual) const {
    State s = base;
    for (size_t k = 0; k < acked; ++k) apply_write(s, sent[k]);
    // Count the ids on which s and actual differ, and keep the count as writes are added.
    auto differs = [&](int64_t id) {
      auto a = actual.find(id);
      auto b = s.find(id);
      if (a == actual.end() || b == s.end()) return (a == actual.end()) != (b == s.end());
      return a->second != b->second;
    };
    int64_t mismatches = 0;
    for (auto& [id, _] : s) mismatches += differs(id);
    for (auto& [id, _] : actual) mismatches += !s.count(id);
    for (size_t k = acked;; ++k) {
      if (mismatches == 0) return int64_t(k);
      if (k == sent.size()) return -1;
      for (int64_t id : sent[k].ids) mismatches -= differs(id);
      apply_write(s, sent[k]);
      for (int64_t id : sent[k].ids) mismatches += differs(id);
    }
  }
};

State read_state(Client& c, const std::string& db, const std::string& model) {
  State s;
  for (auto& d : c.find(db, model)) {
    MpView v(d);
    s[v.get("_id").as_int()] = v.get("v").as_int();
  }
  return s;
}

std::string doc(int64_t id, int64_t version) {
  return J(R"({"_id":)" + std::to_string(id) + R"(,"v":)" + std::to_string(version) +
           R"(,"pad":")" + std::string(60, 'p') + R"("})");
}

struct Run {
  Run(std::string d, uint64_t seed) : db(std::move(d)), rng(seed) {}
  std::string db;
  std::mt19937_64 rng;
  std::map<std::string, Ledger> ledgers;
  int64_t next_id = 1, next_version = 1;
  int64_t acked_total = 0;
  std::string failure;  // the first unexpected reply

  // A random write on `model`, its request, and the ledger entry it will be.
  Request next_write(const std::string& model, Write& w) {
    Ledger& l = ledgers[model];
    int64_t version = next_version++;
    int dice = int(rng() % 100);
    if (l.intended.size() < 20 || dice < 45) {
      w = Write{{next_id++}, version};
      return std::move(Request("insertOne", db, model).arg("doc", doc(w.ids[0], version)));
    }
    if (dice < 55) {
      std::vector<std::string> docs;
      w = Write{{}, version};
      for (int i = 0; i < 5; ++i)
        w.ids.push_back(next_id++), docs.push_back(doc(w.ids.back(), version));
      return std::move(Request("insertMany", db, model).arg_array("docs", docs));
    }
    auto it = l.intended.begin();
    std::advance(it, rng() % l.intended.size());
    std::string filter = J(R"({"_id":)" + std::to_string(it->first) + "}");
    if (dice < 80) {
      w = Write{{it->first}, version};
      return std::move(Request("updateOne", db, model)
                           .arg("filter", filter)
                           .arg("update", J(R"({"$set":{"v":)" + std::to_string(version) + "}}")));
    }
    w = Write{{it->first}, std::nullopt};
    return std::move(Request("deleteOne", db, model).arg("filter", filter));
  }

  // Sends writes until `kill_at`, then kills the daemon with requests still in flight.
  void write_until_killed(DaemonProcess& d, Clock::time_point kill_at) {
    auto c = std::make_unique<Client>(d.req_endpoint(), client_options(10000, 64));
    c->ping();
    while (Clock::now() < kill_at && failure.empty()) {
      std::string model = kModels[rng() % 2];
      Write w;
      Request req = next_write(model, w);
      Ledger& l = ledgers[model];
      size_t index = l.sent.size();
      l.sent.push_back(w);
      apply_write(l.intended, w);
      c->send_async(std::move(req), [this, &l, index](Reply r) {
        if (!r.ok() && failure.empty()) failure = js(r);
        BOOST_REQUIRE_EQUAL(index, l.acked);  // one model's replies come in order
        l.acked = index + 1;
        ++acked_total;
      });
    }
    d.kill();
    c.reset();  // the requests still in flight are dropped: they were not acknowledged
  }

  // After a restart: each model holds a prefix of its writes covering the acknowledged ones.
  void verify(DaemonProcess& d, int round) {
    Client c(d.req_endpoint(), client_options(20000));
    for (auto& [model, l] : ledgers) {
      State actual = read_state(c, db, model);
      int64_t prefix = l.matching_prefix(actual);
      BOOST_TEST(prefix >= 0, db << "." << model << " after kill " << round << ": " << actual.size()
                                 << " documents match no prefix of the " << l.sent.size()
                                 << " writes sent with the first " << l.acked << " acknowledged\n"
                                 << d.log());
      l = Ledger{actual, {}, 0, actual};
    }
  }
};

// The seq in a snapshot's header line (0 when there is none).
int64_t snapshot_seq(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (line.rfind(R"({"$memgoose":)", 0) != 0) return 0;
  std::string mp = J(line);
  return MpView(mp).get("$memgoose").get("seq").as_int();
}

void crash_loop(const std::string& mode, uint64_t seed) {
  DaemonProcess d;
  Run run("crash_" + mode, seed);
  {
    Client c(d.req_endpoint(), client_options());
    c.create_database(run.db, "file",
                      J(R"({"persistMode":")" + mode + R"(","compactBytes":32768})"));
  }
  BOOST_TEST_MESSAGE(mode << ": seed " << seed);
  auto t0 = Clock::now();
  for (int round = 1; round <= kKills; ++round) {
    auto kill_at = Clock::now() + std::chrono::milliseconds(30 + run.rng() % 250);
    run.write_until_killed(d, kill_at);
    BOOST_REQUIRE_MESSAGE(run.failure.empty(), "unexpected reply: " << run.failure);
    d.start();
    run.verify(d, round);
  }
  // A clean stop keeps the last state too, and compactions did run under the kills.
  BOOST_TEST(d.stop() == 0, d.log());
  d.start();
  Client c(d.req_endpoint(), client_options());
  for (auto& [model, l] : run.ledgers) {
    BOOST_TEST((read_state(c, run.db, model) == l.base), model << " after a clean restart");
    BOOST_TEST(snapshot_seq(d.data_dir() + "/" + run.db + "/" + model + ".data.ndjson") > 0,
               model << ": no compaction ran");
  }
  BOOST_TEST_MESSAGE(
      mode << ": " << run.acked_total << " writes acknowledged over " << kKills << " kills in "
           << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()
           << " ms");
}

}  // namespace

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_immediate) {
  crash_loop("immediate", std::random_device{}());
}

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write_debounced) {
  crash_loop("debounced", std::random_device{}());
}
