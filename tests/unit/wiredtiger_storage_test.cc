// WiredTigerStorage: every value type round-trips through a restart with each compressor (and
// the compressors really compress), seq survives reopen and a killed process, a refused or
// failed call applies nothing while the batch's earlier calls stand, a group committed in one
// call (apply_and_commit) is all or nothing, Clear, flush, stats and
// destroy, the key encoding orders and distinguishes _ids, the `wt` tool lists the table and
// dumps a zstd table, a home held by another process is a clear StorageError, and the
// `wiredtiger` kind checks its options and locks the database directory.
#define BOOST_TEST_MODULE wiredtiger_storage
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>

#include "core/collection.h"
#include "core/ejson.h"
#include "storage/engine.h"
#include "storage/reconcile.h"
#include "storage/wiredtiger_storage.h"
#include "storage/wt_compressors.h"
#include "storage/wt_key.h"
#include "tests/unit/stored_model.h"

using namespace mg;

namespace {

std::string J(const std::string& json) {
  return mp_from_json(json);
}
MpView V(const std::string& s) {
  return MpView(s);
}

using mg::testing::TmpDir;

WtOptions with(const std::string& compressor, bool journal_sync = false) {
  WtOptions o;
  o.cache_size = "64M";
  o.compressor = compressor;
  o.journal_sync = journal_sync;
  return o;
}

// A Collection over a WiredTigerStorage of model "M" in `home`.
struct Model : mg::testing::StoredModel<WiredTigerStorage> {
  Model(const std::string& home, WtOptions opts, const char* schema_json = "{}")
      : StoredModel(std::make_unique<WiredTigerStorage>(home, "M_docs", opts), schema_json) {}
};

Change change(Change::Op op, const std::string& id, const std::string& doc, uint64_t seq) {
  Change ch;
  ch.op = op;
  ch.id = id;
  ch.doc = doc;
  ch.seq = seq;
  return ch;
}

// Runs a shell command; returns its exit status and fills `out` with its stdout.
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

std::string key(const std::string& id_json) {
  std::string id = J(id_json), k;
  wt_key_of(V(id), k);
  return k;
}

const char* kAllTypes = R"({"_id":5,"int":1,"neg":-42,"big":9007199254740993,
  "min":-9223372036854775808,"float":1.0,"frac":3.25,"tiny":1e-300,"nan":{"$numberDouble":"NaN"},
  "inf":{"$numberDouble":"-Infinity"},"str":"h\u00e9llo \"q\" \\ \n\t\u0001 \ud83d\ude00","empty":"",
  "nil":null,"t":true,"f":false,"bin":{"$binary":"AAECAwD/"},"date":{"$date":"2024-01-02T03:04:05.678Z"},
  "old":{"$date":"1960-05-06T07:08:09.010Z"},"arr":[1,2.5,"x",null,{"k":[true,{"$date":"2024-01-02T03:04:05.678Z"}]}],
  "nested":{"z":1,"a":{"b":{"c":[[]]}},"m":{}}})";

}  // namespace

BOOST_AUTO_TEST_CASE(every_value_type_round_trips_with_each_compressor) {
  BOOST_TEST(
      wt_compressors() == (std::vector<std::string>{"snappy", "zlib", "zstd", "lz4", "none"}),
      boost::test_tools::per_element());
  TmpDir dir;
  std::map<std::string, uintmax_t> table_bytes;
  for (const std::string& comp : wt_compressors()) {
    BOOST_TEST_CONTEXT("compressor " << comp) {
      std::string home = dir.file(comp);
      std::vector<std::string> before;
      {
        Model m(home, with(comp));
        m.insert({kAllTypes, R"({"_id":"5","zfirst":1,"afirst":2})", R"({"_id":2.5,"x":1})",
                  R"({"x":"generated id"})", R"({"_id":{"$date":"2020-01-01T00:00:00.000Z"}})",
                  R"({"_id":true})", R"({"_id":{"$binary":"AAE="}})"});
        // Compressible bulk: 2000 documents of repeated text (about 1 MB).
        std::vector<std::string> bulk;
        for (int i = 0; i < 2000; ++i)
          bulk.push_back(R"({"_id":)" + std::to_string(1000 + i) +
                         R"(,"text":"lorem ipsum dolor sit amet, consectetur adipiscing elit, )"
                         R"(sed do eiusmod tempor incididunt ut labore et dolore magna aliqua )"
                         R"(lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do )"
                         R"(eiusmod tempor incididunt ut labore et dolore magna aliqua lorem )"
                         R"(ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod"})");
        m.insert(bulk);
        std::string f = J(R"({"_id":5})"), u = J(R"({"$set":{"nested.a.b.c":7,"float":2.0},
                                                     "$inc":{"int":1}})");
        BOOST_REQUIRE(m.c->update(V(f), V(u), false, false, &m.events).ok());
        std::string f2 = J(R"({"_id":"5"})"), r = J(R"({"y":1})");
        BOOST_REQUIRE(m.c->replace_one(V(f2), V(r), false, &m.events).ok());
        std::string f3 = J(R"({"_id":2.5})");
        BOOST_REQUIRE(m.c->remove(V(f3), false, &m.events).ok());
        m.commit();
        before = m.all();
        BOOST_TEST(before.size() == 2006u);
      }  // closed: a final checkpoint
      table_bytes[comp] = std::filesystem::file_size(home + "/M_docs.wt");
      Model m(home, with(comp));
      BOOST_TEST(m.all() == before);  // byte for byte: types, values, field order
      std::string five = m.by_id("5");
      BOOST_TEST(json_from_mp(five).find(R"("int":2,"neg":-42,"big":9007199254740993,)") !=
                 std::string::npos);
      BOOST_TEST((MpView(five).get("float").type() == MpType::Float));
      BOOST_TEST((MpView(five).get("date").type() == MpType::Date));
      BOOST_TEST((MpView(five).get("bin").type() == MpType::Bin));
      BOOST_TEST(json_from_mp(m.by_id(R"("5")")) == R"({"_id":"5","y":1})");
      BOOST_TEST(m.by_id("2.5").empty());
      BOOST_TEST(!m.by_id(R"({"$binary":"AAE="})").empty());
      BOOST_TEST(m.c->last_seq() == 2010u);
    }
  }
  for (const std::string& comp : wt_compressors())
    if (comp != "none")
      BOOST_TEST(table_bytes[comp] * 2 < table_bytes["none"],
                 comp << ": " << table_bytes[comp] << " bytes vs none " << table_bytes["none"]);
}

BOOST_AUTO_TEST_CASE(seq_survives_reopen_and_a_killed_process) {
  TmpDir dir;
  std::string home = dir.file("M");
  {
    Model m(home, with("snappy"));
    m.insert({R"({"_id":1})", R"({"_id":2})"});
    m.insert({R"({"_id":3})"});
    m.commit();
    std::string f = J(R"({"_id":1})");
    BOOST_REQUIRE(m.c->remove(V(f), false, &m.events).ok());  // seq 4, committed by close
    BOOST_TEST(m.c->last_seq() == 4u);
  }
  {
    Model m(home, with("snappy"));
    BOOST_TEST(m.c->last_seq() == 4u);
    BOOST_TEST(m.by_id("1").empty());
  }
  // A process killed right after commit() returned keeps the commit (its log record was
  // written), and nothing of the transaction it never committed.
  for (bool journal_sync : {false, true}) {
    pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      WiredTigerStorage st(home, "M_docs", with("snappy", journal_sync));
      if (!st.open([](std::string_view) { return Status::OK(); }).ok()) _exit(2);
      std::string n = journal_sync ? "11" : "10", id = J(n), doc = J(R"({"_id":)" + n + "}");
      Change ch = change(Change::Op::Insert, id, doc, journal_sync ? 7 : 5);
      if (!st.apply({&ch, 1}).ok() || !st.commit().ok()) _exit(3);
      std::string id2 = J("99"), doc2 = J(R"({"_id":99})");
      Change ch2 = change(Change::Op::Insert, id2, doc2, 100);
      if (!st.apply({&ch2, 1}).ok()) _exit(4);
      raise(SIGKILL);  // no commit, no close, no checkpoint
    }
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "child status " << status);
  }
  Model m(home, with("snappy"));  // WiredTiger's recovery replays the log
  BOOST_TEST(m.c->last_seq() == 7u);
  BOOST_TEST(!m.by_id("10").empty());
  BOOST_TEST(!m.by_id("11").empty());
  BOOST_TEST(m.by_id("99").empty());
}

BOOST_AUTO_TEST_CASE(a_refused_call_applies_nothing_and_earlier_calls_stand) {
  TmpDir dir;
  std::string home = dir.file("M");
  WiredTigerStorage st(home, "M_docs", with("zstd"));
  BOOST_REQUIRE(st.open([](std::string_view) { return Status::OK(); }).ok());
  std::string i1 = J("1"), d1 = J(R"({"_id":1,"v":1})"), i2 = J("2"), d2 = J(R"({"_id":2})"),
              i3 = J("3"), d3 = J(R"({"_id":3})");
  Change first = change(Change::Op::Insert, i1, d1, 1);
  BOOST_REQUIRE(st.apply({&first, 1}).ok());
  // An insertMany whose second document hits an existing key (the engine would refuse it
  // first; this is the backend's own second line of defence).
  Change batch[] = {change(Change::Op::Insert, i2, d2, 2), change(Change::Op::Insert, i1, d1, 3)};
  Status s = st.apply(batch);
  BOOST_TEST((s.code == ErrorCode::DuplicateKey), s.message);
  BOOST_TEST(s.message.find("_id") != std::string::npos);
  BOOST_TEST(json_from_mp(s.key_value) == R"({"_id":1})");
  Change third = change(Change::Op::Insert, i3, d3, 4);
  BOOST_REQUIRE(st.apply({&third, 1}).ok());
  BOOST_REQUIRE(st.commit().ok());
  st.close();
  std::vector<std::string> ids;
  WiredTigerStorage again(home, "M_docs", with("zstd"));
  BOOST_REQUIRE(again
                    .open([&](std::string_view doc) {
                      ids.push_back(json_from_mp(MpView(doc).get("_id").bytes()));
                      return Status::OK();
                    })
                    .ok());
  BOOST_TEST(ids == (std::vector<std::string>{"1", "3"}), boost::test_tools::per_element());
  BOOST_TEST(again.last_seq() == 4u);
}

// The pipelined storage thread's path (apply_and_commit): a group is written straight from the
// caller's bytes and committed; a refused change rolls back its whole group and nothing else;
// inside an open transaction the earlier calls commit with it. Read back after a reopen.
BOOST_AUTO_TEST_CASE(apply_and_commit_commits_a_group_or_nothing_of_it) {
  TmpDir dir;
  std::string home = dir.file("M");
  std::string i1 = J("1"), d1 = J(R"({"_id":1,"v":"one"})"), i2 = J(R"("two")"),
              d2 = J(R"({"_id":"two","v":2})"), i3 = J("3"), d3 = J(R"({"_id":3})"), i4 = J("4"),
              d4 = J(R"({"_id":4})"), d1b = J(R"({"_id":1,"v":"uno"})");
  {
    WiredTigerStorage st(home, "M_docs", with("snappy"));
    BOOST_REQUIRE(st.open([](std::string_view) { return Status::OK(); }).ok());
    Change g1[] = {change(Change::Op::Insert, i1, d1, 1), change(Change::Op::Insert, i2, d2, 2)};
    BOOST_REQUIRE(st.apply_and_commit(g1).ok());
    BOOST_TEST(st.stats().commits == 1u);
    BOOST_TEST(st.last_seq() == 2u);
    // The second change hits an existing key: nothing of this group stays, seq is not raised.
    Change g2[] = {change(Change::Op::Insert, i3, d3, 3), change(Change::Op::Insert, i2, d2, 4)};
    Status s = st.apply_and_commit(g2);
    BOOST_TEST((s.code == ErrorCode::DuplicateKey), s.message);
    BOOST_TEST(json_from_mp(s.key_value) == R"({"_id":"two"})");
    BOOST_TEST(st.last_seq() == 2u);
    BOOST_TEST(st.stats().commits == 1u);
    // The next group works; a Replace and a Delete go the same way.
    Change g3[] = {change(Change::Op::Replace, i1, d1b, 3), change(Change::Op::Delete, i2, "", 4),
                   change(Change::Op::Insert, i3, d3, 5)};
    BOOST_REQUIRE(st.apply_and_commit(g3).ok());
    // An apply() still open: apply_and_commit commits it with its own changes.
    Change open[] = {change(Change::Op::Insert, i4, d4, 6)};
    BOOST_REQUIRE(st.apply(open).ok());
    BOOST_REQUIRE(st.apply_and_commit({}).ok());
    BOOST_TEST(st.stats().commits == 3u);
    st.close();
  }
  std::vector<std::string> docs;
  WiredTigerStorage again(home, "M_docs", with("snappy"));
  BOOST_REQUIRE(again
                    .open([&](std::string_view doc) {
                      docs.push_back(json_from_mp(doc));
                      return Status::OK();
                    })
                    .ok());
  BOOST_TEST(
      docs == (std::vector<std::string>{R"({"_id":1,"v":"uno"})", R"({"_id":3})", R"({"_id":4})"}),
      boost::test_tools::per_element());
  BOOST_TEST(again.last_seq() == 6u);
}

BOOST_AUTO_TEST_CASE(clear_delete_flush_stats_and_destroy) {
  TmpDir dir;
  std::string home = dir.file("M");
  {
    Model m(home, with("lz4"));
    m.insert({R"({"_id":1})", R"({"_id":2})", R"({"_id":3})"});
    m.commit();
    std::string all = J("{}");
    auto n = m.c->remove(V(all), true, &m.events);  // deleteMany {}: a Clear or 3 Deletes
    BOOST_REQUIRE(n.ok());
    m.insert({R"({"_id":4})"});
    BOOST_REQUIRE(m.c->storage().flush().ok());
    StorageStats s = m.c->storage().stats();
    BOOST_TEST(s.bytes_on_disk > 0u);
    BOOST_TEST(s.commits == 2u);
    BOOST_TEST(s.pending_bytes == 0u);
  }
  // A Clear as the storage gets it, inside a transaction with other changes.
  {
    WiredTigerStorage st(home, "M_docs", with("lz4"));
    BOOST_REQUIRE(st.open([](std::string_view) { return Status::OK(); }).ok());
    std::string i5 = J("5"), d5 = J(R"({"_id":5})"), i6 = J("6"), d6 = J(R"({"_id":6})");
    std::string empty;
    Change chs[] = {change(Change::Op::Insert, i5, d5, 10),
                    change(Change::Op::Clear, empty, empty, 11),
                    change(Change::Op::Insert, i6, d6, 12)};
    BOOST_REQUIRE(st.apply(chs).ok());
    std::string i77 = J("77"), none;
    Change del = change(Change::Op::Delete, i77, none, 13);  // absent: not an error
    BOOST_REQUIRE(st.apply({&del, 1}).ok());
    BOOST_REQUIRE(st.commit().ok());
  }
  Model m(home, with("lz4"));
  BOOST_TEST(m.all() == std::vector<std::string>{J(R"({"_id":6})")});
  BOOST_TEST(m.c->last_seq() == 13u);
  BOOST_REQUIRE(m.c->storage().destroy().ok());
  BOOST_TEST(!std::filesystem::exists(home));
}

BOOST_AUTO_TEST_CASE(keys_order_like_the_values_and_keep_ids_apart) {
  // Numbers by value, ints and floats interleaved; then strings, bin, bool, dates.
  std::vector<std::string> ordered = {key("-1e300"),
                                      key("-5"),
                                      key("-1.5"),
                                      key("0"),
                                      key("0.5"),
                                      key("1.0"),  // equal values: 'f' before 'i'
                                      key("1"),
                                      key("2"),
                                      key("1e10"),
                                      key("9007199254740993"),
                                      key(R"("")"),
                                      key(R"("5")"),
                                      key(R"("66a1f0c2e4b0a1b2c3d4e5f6")"),
                                      key(R"("a")"),
                                      key(R"("ab")"),
                                      key(R"({"$binary":"AA=="})"),
                                      key("false"),
                                      key("true"),
                                      key(R"({"$date":"1960-01-01T00:00:00.000Z"})"),
                                      key(R"({"$date":"2024-01-01T00:00:00.000Z"})")};
  for (size_t i = 1; i < ordered.size(); ++i)
    BOOST_TEST((ordered[i - 1] < ordered[i]), "key " << i - 1 << " < key " << i);
  BOOST_TEST((key("1") != key("1.0")));
  BOOST_TEST((key("5") != key(R"("5")")));
  BOOST_TEST(key(R"("66a1f0c2e4b0a1b2c3d4e5f6")") == "S66a1f0c2e4b0a1b2c3d4e5f6");
  // Any MessagePack encoding of the same value gives the same key.
  std::string fix("\x05", 1), wide("\xd3\0\0\0\0\0\0\0\x05", 9), k1, k2;
  wt_key_of(MpView(fix), k1);
  wt_key_of(MpView(wide), k2);
  BOOST_TEST((k1 == k2));
}

BOOST_AUTO_TEST_CASE(the_wt_tool_lists_the_table_and_dumps_zstd_data) {
  TmpDir dir;
  std::string home = dir.file("User");
  {
    auto st = std::make_unique<WiredTigerStorage>(home, "User_docs", with("zstd"));
    Collection c("User", std::move(st));
    std::string schema = J("{}");
    BOOST_REQUIRE(c.open(V(schema)).ok());
    std::string d = J(R"({"_id":"66a1f0c2e4b0a1b2c3d4e5f6","email":"ada@example.com"})");
    std::vector<std::string_view> docs{d};
    BOOST_REQUIRE(c.insert_many(docs, nullptr).ok());
    BOOST_REQUIRE(c.storage().commit().ok());
  }
  std::string out;
  BOOST_TEST(run("wt -h " + home + " list", out) == 0, out);
  BOOST_TEST(out.find("table:User_docs") != std::string::npos, out);
  // Our compressors as a loadable extension, built beside the tests (<build>/lib).
  std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string module = std::filesystem::path(exe).parent_path().parent_path().string() +
                       "/lib/memgoose_wt_compress.so";
  BOOST_REQUIRE_MESSAGE(std::filesystem::exists(module), module);
  BOOST_TEST(
      run("wt -C 'extensions=[" + module + "]' -h " + home + " dump table:User_docs", out) == 0,
      out);
  BOOST_TEST(out.find("S66a1f0c2e4b0a1b2c3d4e5f6") != std::string::npos, out);
  BOOST_TEST(out.find("ada@example.com") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(a_home_held_by_another_process_is_a_clear_storage_error) {
  TmpDir dir;
  std::string home = dir.file("M");
  int ready[2];
  BOOST_REQUIRE(pipe(ready) == 0);
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    WiredTigerStorage st(home, "M_docs", with("snappy"));
    char ok = st.open([](std::string_view) { return Status::OK(); }).ok() ? '1' : '0';
    if (write(ready[1], &ok, 1) != 1) _exit(2);
    pause();  // until killed
    _exit(0);
  }
  char ok = 0;
  BOOST_REQUIRE(read(ready[0], &ok, 1) == 1);
  BOOST_REQUIRE(ok == '1');
  WiredTigerStorage st(home, "M_docs", with("snappy"));
  Status s = st.open([](std::string_view) { return Status::OK(); });
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  BOOST_TEST((s.code == ErrorCode::StorageError));
  BOOST_TEST(s.message.find(home) != std::string::npos, s.message);
  BOOST_TEST(s.message.find("in use by another process") != std::string::npos, s.message);
  BOOST_TEST(s.message.find("Device or resource busy") != std::string::npos, s.message);
  // Once that process is gone the home opens (the kernel dropped its lock).
  WiredTigerStorage again(home, "M_docs", with("snappy"));
  Status s2 = again.open([](std::string_view) { return Status::OK(); });
  BOOST_TEST(s2.ok(), s2.message);
}

BOOST_AUTO_TEST_CASE(the_wiredtiger_kind_checks_options_and_locks_the_directory) {
  const StorageKind* k = find_storage_kind("wiredtiger");
  BOOST_REQUIRE(k);
  BOOST_TEST(k->persistent);
  BOOST_TEST(k->compressors == wt_compressors(), boost::test_tools::per_element());
  auto norm = [&](const char* json) { return k->normalize(MpView(J(json))); };
  auto d = k->normalize(MpView());
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(json_from_mp(d.value()) ==
             R"({"cacheSize":"500M","compressor":"snappy","journalSync":false})");
  auto n = norm(R"({"cacheSize":"1gb","compressor":"zstd","journalSync":true})");
  BOOST_REQUIRE(n.ok());
  BOOST_TEST(json_from_mp(n.value()) ==
             R"({"cacheSize":"1G","compressor":"zstd","journalSync":true})");
  for (const char* bad :
       {R"({"cacheSize":"lots"})", R"({"cacheSize":"500"})", R"({"cacheSize":"512K"})",
        R"({"cacheSize":"11T"})", R"({"cacheSize":"-1G"})", R"({"cacheSize":"1G "})",
        R"({"cacheSize":524288000})", R"({"cacheSize":"99999999999999999999999M"})",
        R"({"compressor":"brotli"})", R"({"compressor":1})", R"({"journalSync":"yes"})",
        R"({"cachesize":"1G"})", R"([1])"}) {
    auto r = norm(bad);
    BOOST_TEST((!r.ok() && r.status().code == ErrorCode::InvalidOptions), bad);
  }
  BOOST_TEST(parse_wt_cache_size("500M").value() == 500ull << 20);
  BOOST_TEST(parse_wt_cache_size("10T").value() == 10ull << 40);
  BOOST_TEST(parse_wt_cache_size("1024k").value() == 1ull << 20);

  TmpDir dir;
  {
    auto e1 = k->open(dir.path, MpView(d.value()));
    BOOST_REQUIRE_MESSAGE(e1.ok(), e1.status().message);
    auto e2 = k->open(dir.path, MpView(d.value()));  // another open of the same directory
    BOOST_TEST(!e2.ok());
    BOOST_TEST((e2.status().code == ErrorCode::StorageError));
    BOOST_TEST(e2.status().message.find(dir.path + " is in use by another process (pid " +
                                        std::to_string(getpid()) + ")") != std::string::npos,
               e2.status().message);
    auto model = e1.value()->make_model("Event");
    BOOST_REQUIRE(model->open([](std::string_view) { return Status::OK(); }).ok());
    BOOST_TEST(std::filesystem::exists(dir.file("Event/Event_docs.wt")));
    model->close();
  }  // dropping the engine releases the directory
  BOOST_TEST(k->open(dir.path, MpView(d.value())).ok());
}

// After a failed commit the model has the strategy write back, as memory has them, the
// documents the group touched, with memory's last_seq (StorageStrategy::reconcile). Here the
// refused group is in the log, as when its commit record was written but the fsync failed, and
// the process was killed with the write-back only recorded (the intent file): the next open()
// recovers the log, which brings the group back, then writes back what the record says before
// it loads anything. A live reconcile does the same at once.
BOOST_AUTO_TEST_CASE(reconcile_overrides_a_refused_commit_that_reached_the_log) {
  TmpDir dir;
  std::string home = dir.file("M"), intent = home + "/memgoose.reconcile";
  std::string id1 = J("1"), id2 = J("2"), id3 = J("3"), d1 = J(R"({"_id":1,"v":0})"),
              d2 = J(R"({"_id":2,"v":0})"), d2x = J(R"({"_id":2,"v":9})"),
              d3 = J(R"({"_id":3,"v":1})");
  // Memory after the rollback: 1 and 2 at v 0, seq 2.
  const std::vector<Change> back = {
      change(Change::Op::Delete, id1, "", 2), change(Change::Op::Delete, id2, "", 2),
      change(Change::Op::Delete, id3, "", 2), change(Change::Op::Replace, id1, d1, 2),
      change(Change::Op::Replace, id2, d2, 2)};
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    WiredTigerStorage st(home, "M_docs", with("snappy", true));
    if (!st.open([](std::string_view) { return Status::OK(); }).ok()) _exit(2);
    Change acked[] = {change(Change::Op::Insert, id1, d1, 1),
                      change(Change::Op::Insert, id2, d2, 2)};
    if (!st.apply(acked).ok() || !st.commit().ok()) _exit(3);
    Change refused[] = {change(Change::Op::Insert, id3, d3, 3),
                        change(Change::Op::Replace, id2, d2x, 4),
                        change(Change::Op::Delete, id1, "", 5)};
    if (!st.apply(refused).ok() || !st.commit().ok()) _exit(4);
    std::string bytes = encode_intent(back, 2);
    FILE* f = std::fopen(intent.c_str(), "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) _exit(5);
    std::fclose(f);
    raise(SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                        "child status " << status);
  const std::vector<std::string> want = {R"({"_id":1,"v":0})", R"({"_id":2,"v":0})"};
  auto docs = [](Model& m) {
    std::vector<std::string> out;
    for (auto& d : m.all()) out.push_back(json_from_mp(d));
    return out;
  };
  {
    Model m(home, with("snappy", true));
    BOOST_TEST(docs(m) == want, boost::test_tools::per_element());
    BOOST_TEST(m.c->last_seq() == 2u);
    BOOST_TEST(!std::filesystem::exists(intent));
    // The refused group again, then a live write-back.
    Change refused[] = {change(Change::Op::Insert, id3, d3, 3),
                        change(Change::Op::Replace, id2, d2x, 4)};
    BOOST_REQUIRE(m.raw->apply(refused).ok());
    BOOST_REQUIRE(m.raw->commit().ok());
    BOOST_REQUIRE(m.raw->reconcile(back, 2).ok());
    BOOST_TEST(m.raw->last_seq() == 2u);
    BOOST_TEST(!std::filesystem::exists(intent));
  }
  Model m(home, with("snappy", true));
  BOOST_TEST(docs(m) == want, boost::test_tools::per_element());
  BOOST_TEST(m.c->last_seq() == 2u);
}
