// tests/integration/wiredtiger_test.cc — the `wiredtiger` backend through the real memgoosed
// (issue 6): `hello` lists it and every compressor it offers works; options are checked and,
// with the schema, persisted so a restart needs no client; data written with each compressor
// (zstd and lz4 among them) is read back after a clean restart and after kill -9; SIGKILL under
// pipelined inserts loses no acknowledged write in either journalSync mode; a second daemon on
// the same data dir fails cleanly, at start and at createDatabase; the `wt` tool lists the
// table. (tests/integration/crash_test.cc runs the wiredtiger modes through the general
// update/delete ledger as well.)
#define BOOST_TEST_MODULE integration_wiredtiger
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/integration/harness.h"

using namespace mg::it;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kCompressors = {"snappy", "zlib", "zstd", "lz4", "none"};

std::string all_types_doc(int i) {
  return J(R"({"_id":)" + std::to_string(i) + R"(,"email":"u)" + std::to_string(i) +
           R"(@x.io","int":-42,"big":9007199254740993,"float":1.0,"frac":3.25,
           "str":"h\u00e9llo \ud83d\ude00","nil":null,"t":true,"bin":{"$binary":"AAECAwD/"},
           "date":{"$date":"2024-01-02T03:04:05.678Z"},"arr":[1,2.5,"x",null,{"k":[false]}],
           "nested":{"z":1,"a":{"b":{}}},"text":")" +
           std::string(200, char('a' + i % 26)) + R"("})");
}

// Every document of a model as Extended JSON, by _id.
std::map<std::string, std::string> contents(Client& c, const std::string& db,
                                            const std::string& model) {
  std::map<std::string, std::string> out;
  for (auto& d : c.find(db, model)) out[js(MpView(d).get("_id"))] = js(d);
  return out;
}

std::vector<std::string> strings(MpView array) {
  std::vector<std::string> out;
  ArrayIter it(array);
  for (MpView v; it.next(v);) out.emplace_back(v.as_str());
  return out;
}

int run(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  BOOST_REQUIRE(p);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string options(const std::string& compressor, bool journal_sync = false) {
  return J(R"({"cacheSize":"32M","compressor":")" + compressor + R"(","journalSync":)" +
           (journal_sync ? "true" : "false") + "}");
}

}  // namespace

BOOST_AUTO_TEST_CASE(hello_lists_wiredtiger_and_compressors_that_work) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  Reply h = c.hello();
  auto listed = strings(h.root().get("storages"));
  BOOST_TEST((std::find(listed.begin(), listed.end(), "wiredtiger") != listed.end()), js(h));
  auto compressors = strings(h.root().get("compressors"));
  BOOST_TEST(compressors == kCompressors, boost::test_tools::per_element());
  // Each one listed really works: a database with it stores and reads a document.
  for (auto& comp : compressors) {
    std::string db = "hello_" + comp;
    BOOST_TEST(c.create_database(db, "wiredtiger", options(comp)));
    c.insert_one(db, "M", all_types_doc(1));
    BOOST_TEST(c.count(db, "M") == 1);
  }
  BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(options_schema_and_data_survive_restarts_with_every_compressor) {
  DaemonProcess d;
  std::map<std::string, std::map<std::string, std::string>> expected;  // db -> contents
  {
    Client c(d.req_endpoint(), client_options());
    // Options: defaults filled in, same config again is {created: false}, nonsense refused.
    BOOST_TEST(c.create_database("plain", "wiredtiger"));
    BOOST_TEST(!c.create_database("plain", "wiredtiger",
                                  J(R"({"cacheSize":"500M","compressor":"snappy"})")));
    EXPECT_ERROR(c,
                 std::move(Request("createDatabase", "plain")
                               .arg_str("storage", "wiredtiger")
                               .arg("options", J(R"({"compressor":"zstd"})"))),
                 72);
    for (const char* bad :
         {R"({"cacheSize":"huge"})", R"({"cacheSize":"0M"})", R"({"compressor":"brotli"})",
          R"({"journalSync":1})", R"({"cache":"1G"})"})
      EXPECT_ERROR(c,
                   std::move(Request("createDatabase", "bad")
                                 .arg_str("storage", "wiredtiger")
                                 .arg("options", J(bad))),
                   72);
    for (auto& comp : kCompressors) {
      std::string db = "wt_" + comp;
      BOOST_TEST(c.create_database(db, "wiredtiger", options(comp)));
      BOOST_TEST(
          c.define_model(db, "User", J(R"({"fields":{"email":{"type":"string","unique":true}}})")));
      std::vector<std::string> docs;
      for (int i = 0; i < 300; ++i) docs.push_back(all_types_doc(i));
      c.insert_many(db, "User", docs);
      c.update_one(db, "User", J(R"({"_id":7})"), J(R"({"$set":{"nested.a.b":[1]}})"));
      c.delete_one(db, "User", J(R"({"_id":8})"));
      expected[db] = contents(c, db, "User");
      BOOST_TEST(expected[db].size() == 299u);
    }
  }
  BOOST_REQUIRE_MESSAGE(d.stop() == 0, d.log());
  // `wt` (Debian's tool) sees the home and its table once the daemon is gone.
  std::string out;
  std::string home = d.data_dir() + "/wt_zstd/User";
  BOOST_TEST(run("wt -h " + home + " list", out) == 0, out);
  BOOST_TEST(out.find("table:User_docs") != std::string::npos, out);

  for (int restart = 0; restart < 2; ++restart) {
    d.start();  // no client redefines anything
    Client c(d.req_endpoint(), client_options());
    Reply l = c.list_databases();
    for (auto& comp : kCompressors) {
      std::string db = "wt_" + comp;
      BOOST_TEST_CONTEXT(db << " after restart " << restart) {
        BOOST_TEST(
            js(by_name(l.root().get("databases"), db).get("options")) ==
            canon(R"({"cacheSize":"32M","compressor":")" + comp + R"(","journalSync":false})"));
        BOOST_TEST((contents(c, db, "User") == expected[db]));
        // The schema came back: its unique index still refuses a duplicate.
        EXPECT_ERROR(
            c, std::move(Request("insertOne", db, "User").arg("doc", J(R"({"email":"u1@x.io"})"))),
            11000);
        std::string id = std::to_string(1000 + restart);
        c.insert_one(db, "User", J(R"({"_id":)" + id + R"(,"email":"new)" + id + R"(@x"})"));
        expected[db] = contents(c, db, "User");
      }
    }
    if (restart == 0) {
      d.kill();  // the second round restarts after SIGKILL: WiredTiger's recovery
    } else {
      BOOST_TEST(d.stop() == 0, d.log());
    }
  }
}

// Pipelined inserts (insertOne and 10-document insertMany) are acknowledged as they commit;
// at a random moment the daemon gets SIGKILL. After the restart every acknowledged document is
// there exactly as written, every insertMany is whole or absent, and nothing else appeared.
void kill_under_pipelined_inserts(bool journal_sync) {
  DaemonProcess d;
  std::string db = journal_sync ? "wt_sync" : "wt_nosync";
  {
    Client c(d.req_endpoint(), client_options());
    BOOST_REQUIRE(c.create_database(db, "wiredtiger", options("zstd", journal_sync)));
  }
  std::mt19937_64 rng(std::random_device{}());
  std::map<std::string, std::string> acked;        // _id -> JSON of the document
  std::map<int64_t, std::vector<int64_t>> groups;  // first id of an insertMany -> its ids
  int64_t next_id = 1, total_acked = 0;
  for (int round = 1; round <= 5; ++round) {
    std::map<std::string, std::string> sent;
    {
      Client c(d.req_endpoint(), client_options(10000, 64));
      c.ping();
      auto kill_at = Clock::now() + std::chrono::milliseconds(100 + rng() % 300);
      std::string failure;
      while (Clock::now() < kill_at) {
        int n = rng() % 4 == 0 ? 10 : 1;
        std::vector<std::string> docs;
        std::vector<int64_t> ids;
        for (int i = 0; i < n; ++i) {
          ids.push_back(next_id);
          docs.push_back(all_types_doc(int(next_id++)));
          sent[std::to_string(ids.back())] = js(docs.back());
        }
        if (n > 1) groups[ids[0]] = ids;
        auto on_reply = [&, docs](Reply r) {
          if (!r.ok()) {
            failure = js(r);
            return;
          }
          for (auto& doc : docs) acked[js(MpView(doc).get("_id"))] = js(doc), ++total_acked;
        };
        if (n > 1)
          c.insert_many_async(db, "Event", docs, on_reply);
        else
          c.send_async(std::move(Request("insertOne", db, "Event").arg("doc", docs[0])), on_reply);
      }
      d.kill();
      BOOST_REQUIRE_MESSAGE(failure.empty(), "unexpected reply: " << failure);
    }
    d.start();
    Client c(d.req_endpoint(), client_options());
    auto found = contents(c, db, "Event");
    int lost = 0, wrong = 0, unknown = 0;
    for (auto& [id, doc] : acked) {
      auto it = found.find(id);
      lost += it == found.end();
      wrong += it != found.end() && it->second != doc;
    }
    for (auto& [id, doc] : found) unknown += !acked.count(id) && !sent.count(id);
    BOOST_TEST(lost == 0, "round " << round << ": " << lost << " acknowledged documents lost");
    BOOST_TEST(wrong == 0, "round " << round << ": " << wrong << " documents differ");
    BOOST_TEST(unknown == 0, "round " << round << ": " << unknown << " documents never sent");
    for (auto& [first, ids] : groups) {
      size_t there = 0;
      for (int64_t id : ids) there += found.count(std::to_string(id));
      BOOST_TEST((there == 0 || there == ids.size()),
                 "insertMany from " << first << ": " << there << " of " << ids.size());
    }
    for (auto& [id, doc] : found) acked[id] = doc;  // landed in-flight writes are now facts
  }
  BOOST_TEST(total_acked > 0);
  BOOST_TEST_MESSAGE((journal_sync ? "journalSync true: " : "journalSync false: ")
                     << total_acked << " inserts acknowledged over 5 kills");
  BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(kill_9_under_pipelined_writes_loses_no_acknowledged_write) {
  kill_under_pipelined_inserts(false);
}

BOOST_AUTO_TEST_CASE(kill_9_under_pipelined_writes_loses_no_acknowledged_write_journal_sync) {
  kill_under_pipelined_inserts(true);
}

BOOST_AUTO_TEST_CASE(a_second_daemon_on_the_same_data_dir_fails_cleanly) {
  DaemonProcess a;
  DaemonOptions bo;
  bo.start = false;
  bo.ready_timeout = std::chrono::milliseconds(5000);
  DaemonProcess b(bo);
  // b's --data-dir becomes a's data dir.
  std::filesystem::remove_all(b.data_dir());
  std::filesystem::create_directory_symlink(a.data_dir(), b.data_dir());
  b.start();  // nothing persistent there yet: both run
  Client ca(a.req_endpoint(), client_options()), cb(b.req_endpoint(), client_options());
  BOOST_TEST(ca.create_database("shared", "wiredtiger", options("lz4")));
  ca.insert_one("shared", "M", all_types_doc(1));
  // At createDatabase: b cannot take the directory a holds, and a's catalog is untouched.
  Error e = EXPECT_ERROR(cb,
                         std::move(Request("createDatabase", "shared")
                                       .arg_str("storage", "wiredtiger")
                                       .arg("options", options("zstd"))),
                         1001);
  BOOST_TEST(e.message().find(b.data_dir() + "/shared") != std::string::npos, e.message());
  BOOST_TEST(e.message().find("in use by another process (pid " + std::to_string(a.pid()) + ")") !=
                 std::string::npos,
             e.message());
  BOOST_TEST(b.running());
  BOOST_TEST(b.stop() == 0, b.log());
  // At start: b finds the database on disk, cannot lock it, says why and exits non-zero.
  size_t from = b.log_size();
  BOOST_CHECK_THROW(b.start(), std::runtime_error);
  BOOST_TEST(b.exit_status() != 0);
  std::string log = b.log().substr(from);
  BOOST_TEST(log.find(b.data_dir() + "/shared") != std::string::npos, log);
  BOOST_TEST(log.find("in use by another process") != std::string::npos, log);
  // a was never disturbed, and keeps its data and options across its own restart.
  BOOST_TEST(ca.count("shared", "M") == 1);
  BOOST_TEST(a.stop() == 0, a.log());
  a.start();
  Client ca2(a.req_endpoint(), client_options());
  BOOST_TEST(ca2.count("shared", "M") == 1);
  BOOST_TEST(js(by_name(ca2.list_databases().root().get("databases"), "shared").get("options")) ==
             canon(R"({"cacheSize":"32M","compressor":"lz4","journalSync":false})"));
  // Once a is gone, b starts on the same directory and sees the same data.
  BOOST_TEST(a.stop() == 0, a.log());
  b.start();
  Client cb2(b.req_endpoint(), client_options());
  BOOST_TEST(cb2.count("shared", "M") == 1);
  BOOST_TEST(b.stop() == 0, b.log());
}

BOOST_AUTO_TEST_CASE(drop_model_empties_it_and_drop_database_removes_the_homes) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  BOOST_TEST(c.create_database("dropme", "wiredtiger", options("snappy")));
  c.insert_one("dropme", "A", all_types_doc(1));
  c.insert_one("dropme", "B", all_types_doc(2));
  c.flush("dropme");
  std::string dir = d.data_dir() + "/dropme";
  BOOST_TEST(std::filesystem::exists(dir + "/A/A_docs.wt"));
  BOOST_TEST(c.drop_model("dropme", "A"));  // the engine clears the model (one Clear)
  BOOST_TEST(c.count("dropme", "A") == 0);
  BOOST_TEST(d.stop() == 0, d.log());
  d.start();
  Client c2(d.req_endpoint(), client_options());
  BOOST_TEST(c2.count("dropme", "A") == 0);
  BOOST_TEST(c2.count("dropme", "B") == 1);
  c2.drop_database("dropme");
  BOOST_TEST(!std::filesystem::exists(dir));
  // The old homes (moved aside) are closed and removed in the background.
  auto leftovers = [&] {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(d.data_dir()))
      n += e.path().filename().string().rfind(".dropme.dropped-", 0) == 0;
    return n;
  };
  for (int i = 0; i < 250 && leftovers() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST(leftovers() == 0);
  BOOST_TEST(c2.create_database("dropme", "wiredtiger", options("snappy")));
  BOOST_TEST(c2.count("dropme", "B") == 0);
  c2.insert_one("dropme", "B", all_types_doc(3));
  BOOST_TEST(c2.count("dropme", "B") == 1);
  BOOST_TEST(d.stop() == 0, d.log());
  BOOST_TEST(d.log().find("wiredtiger") == std::string::npos, d.log());  // no WiredTiger errors
}
