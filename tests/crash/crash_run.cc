// tests/crash/crash_run.cc — see crash_run.h.
#include "tests/crash/crash_run.h"

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "core/ejson.h"
#include "core/msgpack.h"

namespace mg::crash {

using client::Client;
using client::ClientOptions;
using client::Reply;
using client::Request;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kModels[] = {"A", "B"};
constexpr int kInsertManySize = 5;

ClientOptions options(int timeout_ms, int window = 64) {
  ClientOptions o;
  o.timeout_ms = timeout_ms;
  o.window = window;
  return o;
}

std::string doc_json(int64_t id, int64_t version) {
  return R"({"_id":)" + std::to_string(id) + R"(,"v":)" + std::to_string(version) + R"(,"pad":")" +
         std::string(60, 'p') + R"("})";
}

std::string tail(const std::string& log, size_t n = 3000) {
  return log.size() <= n ? log : "..." + log.substr(log.size() - n);
}

}  // namespace

std::vector<Mode> persistent_modes(Client& c) {
  std::vector<Mode> modes = {
      {"file-immediate", "file", R"({"persistMode":"immediate","compactBytes":32768})"},
      {"file-debounced", "file", R"({"persistMode":"debounced","compactBytes":32768})"},
      {"sqlite-normal", "sqlite", R"({"synchronous":"normal"})"},
      {"sqlite-full", "sqlite", R"({"synchronous":"full"})"},
  };
  Reply hello = c.hello();
  mg::ArrayIter it(hello.get("storages"));
  for (MpView s; it.next(s);)
    if (s.as_str() == "wiredtiger") {
      modes.push_back({"wiredtiger-nosync", "wiredtiger", R"({"journalSync":false})"});
      modes.push_back({"wiredtiger-sync", "wiredtiger", R"({"journalSync":true})"});
    }
  return modes;
}

Mode find_mode(Client& c, const std::string& name) {
  for (Mode& m : persistent_modes(c))
    if (m.name == name) return m;
  throw std::invalid_argument("no persistent mode " + name + " on this daemon");
}

CrashRun::CrashRun(testing::DaemonProcess& d, Mode mode, uint64_t seed)
    : d_(d), mode_(std::move(mode)), db_("crash_" + mode_.name), seed_(seed), rng_(seed) {
  for (char& ch : db_)
    if (ch == '-') ch = '_';
  Client c(d_.req_endpoint(), options(20000));
  c.create_database(db_, mode_.storage, mp_from_json(mode_.options));
  for (const char* m : kModels) ledgers_[m];
}

Request CrashRun::next_write(const std::string& model, Write& w) {
  const State& intended = ledgers_[model].intended();
  int64_t version = next_version_++;
  int dice = int(rng_() % 100);
  if (intended.size() < 20 || dice < 45) {
    w = Write{{next_id_++}, version};
    return std::move(
        Request("insertOne", db_, model).arg("doc", mp_from_json(doc_json(w.ids[0], version))));
  }
  if (dice < 55) {
    std::vector<std::string> docs;
    w = Write{{}, version};
    for (int i = 0; i < kInsertManySize; ++i)
      w.ids.push_back(next_id_++), docs.push_back(mp_from_json(doc_json(w.ids.back(), version)));
    return std::move(Request("insertMany", db_, model).arg_array("docs", docs));
  }
  auto it = intended.begin();
  std::advance(it, rng_() % intended.size());
  std::string filter = mp_from_json(R"({"_id":)" + std::to_string(it->first) + "}");
  if (dice < 80) {
    w = Write{{it->first}, version};
    return std::move(
        Request("updateOne", db_, model)
            .arg("filter", filter)
            .arg("update", mp_from_json(R"({"$set":{"v":)" + std::to_string(version) + "}}")));
  }
  w = Write{{it->first}, std::nullopt};
  return std::move(Request("deleteOne", db_, model).arg("filter", filter));
}

void CrashRun::write_until(Clock::time_point kill_at) {
  auto c = std::make_unique<Client>(d_.req_endpoint(), options(10000));
  c->ping();
  while (Clock::now() < kill_at && bad_reply_.empty()) {
    std::string model = kModels[rng_() % 2];
    Write w;
    Request req = next_write(model, w);
    Ledger& l = ledgers_[model];
    size_t index = l.record(std::move(w));
    c->send_async(std::move(req), [this, &l, index, model](Reply r) {
      if (!r.ok() && bad_reply_.empty())
        bad_reply_ =
            model + " write " + std::to_string(index) + ": " + json_from_mp(std::string(r.bytes()));
      if (!l.acknowledge(index) && bad_reply_.empty())
        bad_reply_ = model + ": the reply to write " + std::to_string(index) + " came out of order";
    });
  }
  d_.kill();
  c.reset();  // the requests still in flight are dropped: they were not acknowledged
}

bool CrashRun::kill_round() {
  auto t0 = Clock::now();
  write_until(t0 + std::chrono::milliseconds(30 + rng_() % 250));
  ++report_.kills;
  bool ok = bad_reply_.empty();
  if (!ok) fail("unexpected reply: " + bad_reply_);
  bad_reply_.clear();
  d_.start();
  ok = check("after a SIGKILL", false) && ok;
  report_.elapsed += std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  return ok;
}

bool CrashRun::clean_restart() {
  int status = d_.stop();
  if (status != 0) {
    fail("SIGTERM: exit status " + std::to_string(status));
    d_.kill();
  }
  d_.start();
  return check("after a clean stop", true) && status == 0;
}

bool CrashRun::check(const char* when, bool exact) {
  Client c(d_.req_endpoint(), options(30000));
  bool ok = true;
  for (auto& [model, l] : ledgers_) {
    State actual;
    std::string bad_doc;
    for (auto& d : c.find(db_, model)) {
      MpView v(d);
      int64_t id = v.get("_id").as_int(), version = v.get("v").as_int();
      actual[id] = version;
      if (bad_doc.empty() && json_from_mp(d) != json_from_mp(mp_from_json(doc_json(id, version))))
        bad_doc = json_from_mp(d);
    }
    int64_t prefix = l.matching_prefix(actual);
    if (!exact) {
      report_.acknowledged += int64_t(l.acked());
      report_.in_flight += int64_t(l.sent() - l.acked());
      if (prefix >= 0) report_.in_flight_landed += prefix - int64_t(l.acked());
    }
    bool model_ok = bad_doc.empty() && (exact ? prefix == int64_t(l.acked()) : prefix >= 0);
    if (!model_ok) {
      Diagnosis dg = l.diagnose(actual);
      report_.damage.lost += dg.lost;
      report_.damage.resurrected += dg.resurrected;
      report_.damage.phantom += dg.phantom;
      report_.damage.torn += dg.torn;
      if (exact && dg.clean() && prefix > int64_t(l.acked()))
        dg.examples = "unacknowledged writes applied after a clean stop";
      fail(db_ + "." + model + " " + when + " (kill " + std::to_string(report_.kills) +
           "): " + std::to_string(actual.size()) + " documents match no prefix of the " +
           std::to_string(l.sent()) + " writes sent with the first " + std::to_string(l.acked()) +
           " acknowledged: " + dg.examples + (bad_doc.empty() ? "" : " torn document " + bad_doc));
      ok = false;
    }
    l = l.next_round(actual);
  }
  return ok;
}

void CrashRun::fail(const std::string& why) {
  ++report_.failures;
  if (!keep_dir_.empty() && report_.failures == 1) {
    std::error_code ec;
    std::filesystem::copy(d_.data_dir(), keep_dir_ + "/" + mode_.name,
                          std::filesystem::copy_options::recursive, ec);
  }
  if (report_.first_failure.empty())
    report_.first_failure = "[" + mode_.name + " seed " + std::to_string(seed_) + "] " + why +
                            "\n--- memgoosed log ---\n" + tail(d_.log());
}

}  // namespace mg::crash
