// tests/integration/changes_test.cc — change events (CONTRACT.md §7) as the real memgoosed
// publishes them: one event per document for every kind of write, in seq order, identical on
// the PUB socket, in `changes` and through the client's Watcher; nothing for a rejected write
// or a write that changes nothing; `changes` replay, its paging and ChangeStreamHistoryLost with
// a small --change-log-size; seq continuing across a restart of a persistent database; and
// `memgoose watch` (the CLI beside memgoosed) printing one JSON line per event until SIGINT.
#define BOOST_TEST_MODULE integration_changes
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/watch_support.h"

using namespace mg::it;
using std::chrono::milliseconds;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one event should be: its op, `_id` and document as JSON ("" for no document).
struct Expected {
  std::string op, id, doc;
};

// Asserts `got` (seqs 1..n) against `want`, and every ts within [t0, t1] (ms, 1 s slack).
void check_events(const std::vector<Event>& got, const std::vector<Expected>& want, int64_t t0,
                  int64_t t1, const std::string& source) {
  BOOST_TEST_CONTEXT(source) {
    BOOST_TEST_REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      BOOST_TEST_CONTEXT("event " << i << ": " << got[i].op << " " << js(got[i].id) << " "
                                  << (got[i].doc.empty() ? "-" : js(got[i].doc))) {
        BOOST_TEST(got[i].seq == i + 1);
        BOOST_TEST(got[i].op == want[i].op);
        BOOST_TEST(js(got[i].id) == canon(want[i].id));
        BOOST_TEST((got[i].doc.empty() ? "" : js(got[i].doc)) ==
                   (want[i].doc.empty() ? "" : canon(want[i].doc)));
        BOOST_TEST(got[i].ts.millis() >= t0 - 1000);
        BOOST_TEST(got[i].ts.millis() <= t1 + 1000);
      }
    }
  }
}

// updateMany updates documents in the daemon's order: sort that run of events by _id.
void sort_run_by_id(std::vector<Event>& events, size_t from, size_t to) {
  if (events.size() < to) return;
  std::sort(events.begin() + int64_t(from), events.begin() + int64_t(to),
            [](const Event& a, const Event& b) { return js(a.id) < js(b.id); });
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(one_event_per_document_for_every_kind_of_write, OnSharedDaemon) {
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0);
  int64_t t0 = now_ms();
  c.insert_one("", model, J(R"({"_id":1,"name":"a","n":1})"));
  c.insert_many("", model,
                {J(R"({"_id":2,"n":2})"), J(R"({"_id":3,"n":3})"), J(R"({"_id":4,"n":4})")});
  BOOST_TEST(c.update_one("", model, J(R"({"_id":2})"), J(R"({"$set":{"n":20}})")).modified == 1);
  BOOST_TEST(c.replace_one("", model, J(R"({"_id":3})"), J(R"({"n":30,"r":true})")).modified == 1);
  BOOST_TEST(c.delete_one("", model, J(R"({"_id":4})")) == 1);
  BOOST_TEST(c.update_many("", model, J("{}"), J(R"({"$inc":{"n":1}})")).modified == 3);
  c.find_one_and_update("", model, J(R"({"_id":1})"), J(R"({"$set":{"f":true}})"));
  c.find_one_and_delete("", model, J(R"({"_id":2})"));
  c.update_one("", model, J(R"({"_id":9})"), J(R"({"$set":{"u":1}})"), /*upsert=*/true);
  BOOST_TEST(c.delete_many("", model, J(R"({"_id":{"$in":[3,9]}})")) == 2);
  BOOST_TEST(c.drop_model("", model));
  int64_t t1 = now_ms();

  std::vector<Expected> want = {
      {"insert", "1", R"({"_id":1,"name":"a","n":1})"},
      {"insert", "2", R"({"_id":2,"n":2})"},
      {"insert", "3", R"({"_id":3,"n":3})"},
      {"insert", "4", R"({"_id":4,"n":4})"},
      {"update", "2", R"({"_id":2,"n":20})"},
      {"replace", "3", R"({"_id":3,"n":30,"r":true})"},
      {"delete", "4", ""},
      {"update", "1", R"({"_id":1,"name":"a","n":2})"},  // updateMany: one event per document
      {"update", "2", R"({"_id":2,"n":21})"},
      {"update", "3", R"({"_id":3,"n":31,"r":true})"},
      {"update", "1", R"({"_id":1,"name":"a","n":2,"f":true})"},
      {"delete", "2", ""},
      {"insert", "9", R"({"_id":9,"u":1})"},  // an upsert inserts
      {"delete", "3", ""},
      {"delete", "9", ""},
      {"drop", "null", ""},
  };
  std::vector<Event> watched = read_until(w, want.size(), std::chrono::seconds(10));
  std::vector<Event> replayed = replay(c, model, 0);
  sort_run_by_id(watched, 7, 10);
  sort_run_by_id(replayed, 7, 10);
  check_events(watched, want, t0, t1, "Watcher");
  check_events(replayed, want, t0, t1, "changes");
  BOOST_TEST(!w.next(milliseconds(300)), "no event after the drop");
  BOOST_TEST(w.stats().delivered == want.size());
}

// The wire itself: topic frame exactly "db.model", body {seq, op, id, doc, ts} without `doc`
// on delete; a subscriber to "default.X" also gets "default.XY" (ZeroMQ prefix matching),
// which the Watcher filters out.
BOOST_FIXTURE_TEST_CASE(pub_socket_frames_and_exact_topic_filtering, OnSharedDaemon) {
  std::string other = model + "Y";
  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "default." + model);
  sub.connect(daemon.pub_endpoint());
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0);
  // Wait until the raw subscription is live: write to `other` until its event arrives.
  zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
  int probes = 0;
  for (; probes < 100 && !(item.revents & ZMQ_POLLIN); ++probes) {
    c.insert_one("", other, J("{}"));
    zmq::poll(&item, 1, milliseconds(50));
  }
  BOOST_TEST_REQUIRE(probes < 100);
  std::vector<std::pair<std::string, std::string>> frames;  // (topic, body)
  auto drain = [&] {
    zmq::message_t topic, body;
    while (sub.recv(topic, zmq::recv_flags::dontwait)) {
      BOOST_TEST_REQUIRE(topic.more());
      BOOST_TEST_REQUIRE(bool(sub.recv(body)));
      BOOST_TEST(!body.more());
      frames.emplace_back(topic.to_string(), body.to_string());
    }
  };
  drain();
  frames.clear();
  c.insert_one("", model, J(R"({"_id":"k","a":[1,{"b":2}]})"));
  c.insert_one("", other, J(R"({"_id":"o"})"));
  c.delete_one("", model, J(R"({"_id":"k"})"));
  for (int i = 0; i < 50 && frames.size() < 3; ++i) {
    zmq::poll(&item, 1, milliseconds(100));
    drain();
  }
  BOOST_TEST_REQUIRE(frames.size() == 3);
  BOOST_TEST(frames[0].first == "default." + model);
  BOOST_TEST(frames[1].first == "default." + other);
  BOOST_TEST(frames[2].first == "default." + model);
  MpView ins(frames[0].second), del(frames[2].second);
  BOOST_TEST(js(ins.get("seq")) == "1");
  BOOST_TEST(js(ins.get("op")) == R"("insert")");
  BOOST_TEST(js(ins.get("id")) == R"("k")");
  BOOST_TEST(js(ins.get("doc")) == canon(R"({"_id":"k","a":[1,{"b":2}]})"));
  BOOST_TEST(ins.get("ts").type() == MpType::Date);
  BOOST_TEST(js(del.get("seq")) == "2");
  BOOST_TEST(js(del.get("op")) == R"("delete")");
  BOOST_TEST(!del.get("doc").valid(), "no doc on delete");
  std::vector<Event> got = read_until(w, 2, std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(got.size() == 2);
  BOOST_TEST(got[0].op == "insert");
  BOOST_TEST(got[1].op == "delete");
  BOOST_TEST(!w.next(milliseconds(200)), "the Watcher skips " << other);
}

// CONTRACT.md §6: a failed write changes nothing, not the change stream; §7: nor does a write
// that modifies nothing.
BOOST_FIXTURE_TEST_CASE(no_event_for_rejected_or_unchanged_writes, OnSharedDaemon) {
  c.define_model("", model, J(R"({"fields":{"email":{"type":"string","unique":true},
                                           "age":{"type":"int","min":0}}})"));
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0);
  c.insert_one("", model, J(R"({"_id":1,"email":"a@x","age":5})"));
  auto insert = [&](const char* doc) { return Request("insertOne", "", model).arg("doc", J(doc)); };
  EXPECT_ERROR(c, insert(R"({"_id":2,"email":"a@x","age":6})"), 11000);
  EXPECT_ERROR(c, insert(R"({"_id":1,"email":"b@x"})"), 11000);
  EXPECT_ERROR(c, insert(R"({"_id":3,"email":"c@x","age":-1})"), 121);
  EXPECT_ERROR(c, insert(R"({"_id":4,"email":"d@x","age":"old"})"), 121);
  EXPECT_ERROR(c,
               Request("insertMany", "", model)
                   .arg("docs", J(R"([{"_id":5,"email":"e@x"},{"_id":6,"email":"e@x"}])")),
               11000);
  EXPECT_ERROR(c,
               Request("insertMany", "", model)
                   .arg("docs", J(R"([{"_id":7,"email":"f@x"},{"_id":8,"age":-3}])")),
               121);
  auto update = [&](const char* filter, const char* upd) {
    return Request("updateOne", "", model).arg("filter", J(filter)).arg("update", J(upd));
  };
  EXPECT_ERROR(c, update(R"({"_id":1})", R"({"$set":{"age":-2}})"), 121);
  EXPECT_ERROR(c, update(R"({"_id":1})", R"({"$set":{"_id":9}})"), 66);
  BOOST_TEST(c.update_one("", model, J(R"({"_id":1})"), J(R"({"$set":{"age":5}})")).modified == 0);
  BOOST_TEST(c.update_one("", model, J(R"({"_id":42})"), J(R"({"$set":{"age":1}})")).matched == 0);
  BOOST_TEST(c.update_many("", model, J("{}"), J(R"({"$max":{"age":1}})")).modified == 0);
  BOOST_TEST(c.delete_one("", model, J(R"({"_id":42})")) == 0);
  BOOST_TEST(c.delete_many("", model, J(R"({"age":{"$gt":100}})")) == 0);
  BOOST_TEST(!c.find_one_and_delete("", model, J(R"({"_id":42})")));
  c.insert_one("", model, J(R"({"_id":2,"email":"b@x","age":7})"));

  std::vector<Event> replayed = replay(c, model, 0);
  BOOST_TEST_REQUIRE(replayed.size() == 2);
  BOOST_TEST(replayed[0].seq == 1);
  BOOST_TEST(replayed[1].seq == 2);
  BOOST_TEST(js(replayed[1].doc) == canon(R"({"_id":2,"email":"b@x","age":7})"));
  std::vector<Event> watched = read_until(w, 2, std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(watched.size() == 2);
  BOOST_TEST(js(watched[0].id) == "1");
  BOOST_TEST(js(watched[1].id) == "2");
  BOOST_TEST(!w.next(milliseconds(300)));
  BOOST_TEST(c.changes("", model, 0).last_seq == 2);
}

BOOST_FIXTURE_TEST_CASE(changes_arguments, OnSharedDaemon) {
  c.insert_many("", model, {J(R"({"_id":1})"), J(R"({"_id":2})"), J(R"({"_id":3})")});
  auto changes = [&](int64_t after) {
    return Request("changes", "", model).arg_int("after", after);
  };
  EXPECT_ERROR(c, changes(-1), 2);
  EXPECT_ERROR(c, changes(0).arg_int("limit", -1), 2);
  ChangesResult r = c.changes("", model, 1, 1);
  BOOST_TEST_REQUIRE(r.events.size() == 1u);
  BOOST_TEST(js(MpView(r.events[0]).get("seq")) == "2");
  BOOST_TEST(r.last_seq == 3);
  r = c.changes("", model, 3);
  BOOST_TEST(r.events.empty());
  BOOST_TEST(r.last_seq == 3);
  r = c.changes("", model, 1000);  // past the end: nothing, not an error
  BOOST_TEST(r.events.empty());
  BOOST_TEST(r.last_seq == 3);
  r = c.changes("", model + "Never", 0);
  BOOST_TEST(r.events.empty());
  BOOST_TEST(r.last_seq == 0);
  EXPECT_ERROR(c, Request("changes", "noSuchDb", model).arg_int("after", 0), 26);
}

// --change-log-size 100: 250 events keep 151..250; replay pages; older is HistoryLost, for
// `changes` and for a Watcher that needs them.
BOOST_FIXTURE_TEST_CASE(replay_and_history_lost, OwnDaemon) {
  start({"--change-log-size", "100"});
  Client c(daemon->req_endpoint(), client_options());
  BOOST_TEST(load_numbered(c, model, 0, 250, 250) == 250);
  std::vector<Event> kept = replay(c, model, 150);
  check_numbered_inserts(kept, 151, 250, -1);
  ChangesResult page = c.changes("", model, 200, 10);
  BOOST_TEST(page.events.size() == 10u);
  BOOST_TEST(page.last_seq == 250);
  for (int64_t after : {0, 100, 149}) {
    Error e = EXPECT_ERROR(c, Request("changes", "", model).arg_int("after", after), 286);
    BOOST_TEST_MESSAGE("after " << after << ": " << e.message());
  }
  Watcher late(daemon->req_endpoint(), daemon->pub_endpoint(), "default", model, 10);
  try {
    late.next(milliseconds(2000));
    BOOST_TEST(false, "a Watcher after seq 10 must get ChangeStreamHistoryLost");
  } catch (const Error& e) {
    BOOST_TEST(e.code() == 286);
    BOOST_TEST(e.name() == "ChangeStreamHistoryLost");
  }
  late.reset(200);  // the application resynchronised up to seq 200
  check_numbered_inserts(read_until(late, 250, std::chrono::seconds(10)), 201, 250, -1);
  // A Watcher within the retained history gets it, then the live events after it.
  Watcher fine(daemon->req_endpoint(), daemon->pub_endpoint(), "default", model, 150);
  std::vector<Event> got = read_until(fine, 250, std::chrono::seconds(10));
  BOOST_TEST(load_numbered(c, model, 250, 30) == 30);
  for (auto& e : read_until(fine, 280, std::chrono::seconds(10))) got.push_back(std::move(e));
  check_numbered_inserts(got, 151, 280, -1);
}

// A persistent database keeps its seq across a restart; a Watcher that lived through the
// restart gets the new events (its SUB and DEALER sockets reconnect by themselves).
BOOST_FIXTURE_TEST_CASE(seq_continues_after_restart, OwnDaemon) {
  start();
  Client c(daemon->req_endpoint(), client_options());
  std::string storages = js(c.hello().get("storages"));
  std::string storage;
  for (const char* s : {"file", "sqlite"})
    if (storage.empty() && storages.find('"' + std::string(s) + '"') != std::string::npos)
      storage = s;
  if (storage.empty()) {
    BOOST_TEST_MESSAGE("skipped: neither the 'file' nor the 'sqlite' storage is built in");
    return;
  }
  BOOST_TEST_MESSAGE("storage " << storage);
  BOOST_TEST(c.create_database("keep", storage));
  std::vector<std::string> docs;
  for (int i = 0; i < 5; ++i) docs.push_back(numbered_doc(i));
  c.insert_many("keep", model, docs);
  Watcher w(daemon->req_endpoint(), daemon->pub_endpoint(), "keep", model, 0);
  BOOST_TEST(read_until(w, 5, std::chrono::seconds(10)).size() == 5u);
  BOOST_TEST_REQUIRE(daemon->stop() == 0);
  daemon->start();
  c.insert_one("keep", model, numbered_doc(5));
  c.insert_one("keep", model, numbered_doc(6));
  ChangesResult r = c.changes("keep", model, 5);
  BOOST_TEST(r.last_seq == 7);
  BOOST_TEST_REQUIRE(r.events.size() == 2u);
  BOOST_TEST(js(MpView(r.events[0]).get("seq")) == "6");
  BOOST_TEST(js(MpView(r.events[0]).get("doc")) == js(numbered_doc(5)));
  std::vector<Event> after = read_until(w, 7, std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(after.size() == 2u);
  BOOST_TEST(after[0].seq == 6u);
  BOOST_TEST(after[1].seq == 7u);
  BOOST_TEST(js(after[1].doc) == js(numbered_doc(6)));
}

namespace {

// Starts `argv` with stdout to `out_path` (stderr kept); everything built before fork().
pid_t spawn_to_file(std::vector<std::string> args, const std::string& out_path) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BOOST_TEST_REQUIRE(fd >= 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fd);
  return pid;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(cli_watch_prints_one_json_line_per_event_until_sigint, OnSharedDaemon) {
  std::string bin =
      (std::filesystem::path(DaemonProcess::binary_path()).parent_path() / "memgoose").string();
  if (access(bin.c_str(), X_OK) != 0) {
    BOOST_TEST_MESSAGE("skipped: " << bin << " is not built");
    return;
  }
  c.insert_one("", model, J(R"({"_id":1,"a":1})"));  // before the CLI starts: replayed
  std::string out = daemon.dir() + "/" + model + ".watch";
  pid_t pid = spawn_to_file({bin, "-e", daemon.req_endpoint(), "watch", "default." + model,
                             "--after", "0", "--pub", daemon.pub_endpoint()},
                            out);
  c.insert_one("", model, J(R"({"_id":2,"t":{"$date":"2024-01-02T03:04:05.678Z"}})"));
  c.update_one("", model, J(R"({"_id":1})"), J(R"({"$set":{"a":2}})"));
  c.delete_one("", model, J(R"({"_id":2})"));
  std::vector<std::string> lines;
  for (int i = 0; i < 100 && lines.size() < 4; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    lines = lines_of(out);  // each line is flushed as it is printed
  }
  kill(pid, SIGINT);
  int status = 0;
  BOOST_TEST_REQUIRE(waitpid(pid, &status, 0) == pid);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  lines = lines_of(out);
  BOOST_TEST_REQUIRE(lines.size() == 4u);
  const char* want[][4] = {
      {"1", "\"insert\"", "1", R"({"_id":1,"a":1})"},
      {"2", "\"insert\"", "2", R"({"_id":2,"t":{"$date":"2024-01-02T03:04:05.678Z"}})"},
      {"3", "\"update\"", "1", R"({"_id":1,"a":2})"},
      {"4", "\"delete\"", "2", ""},
  };
  for (size_t i = 0; i < 4; ++i) {
    BOOST_TEST_CONTEXT("line " << i << ": " << lines[i]) {
      std::string mp = J(lines[i]);
      MpView e(mp);
      BOOST_TEST(js(e.get("seq")) == want[i][0]);
      BOOST_TEST(js(e.get("op")) == want[i][1]);
      BOOST_TEST(js(e.get("id")) == want[i][2]);
      BOOST_TEST((e.get("doc").valid() ? js(e.get("doc")) : "") ==
                 (*want[i][3] ? canon(want[i][3]) : ""));
      BOOST_TEST(e.get("ts").type() == MpType::Date);
      BOOST_TEST(lines[i].find(R"("ts":{"$date":")") != std::string::npos);
    }
  }
}
