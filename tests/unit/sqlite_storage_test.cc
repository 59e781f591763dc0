// SqliteStorage: every value type round-trips through a Collection and a restart, seq survives
// restarts and killed processes, schema indexes become SQLite expression indexes (and go away),
// external sqlite3 readers see committed rows only, SQLite's own unique refusal and a full
// disk leave nothing applied, and the `sqlite` kind checks its options.
#define BOOST_TEST_MODULE sqlite_storage
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/collection.h"
#include "core/ejson.h"
#include "storage/engine.h"
#include "storage/reconcile.h"
#include "storage/sqlite_storage.h"
#include "tests/unit/stored_model.h"

using namespace mg;

namespace {

std::string J(const char* json) {
  return mp_from_json(json);
}
MpView V(const std::string& s) {
  return MpView(s);
}

using mg::testing::TmpDir;

std::vector<IndexSpec> specs(const char* schema_json) {
  std::string s = J(schema_json);
  return Schema::parse(V(s))->indexes();
}

// Runs `sql` on a separate connection (like an operator's sqlite3 CLI) and returns each row's
// columns joined by '|'.
std::vector<std::string> query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db));
  std::vector<std::string> rows;
  while (sqlite3_step(q) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(q); ++i) {
      const unsigned char* t = sqlite3_column_text(q, i);
      row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rows;
}

size_t row_count(const std::string& path) {
  return std::stoul(query(path, "SELECT count(*) FROM documents").at(0));
}

Status open_quiet(SqliteStorage& st) {
  return st.open([](std::string_view) { return Status::OK(); });
}

// A Collection over a SqliteStorage at `path`.
struct Model : mg::testing::StoredModel<SqliteStorage> {
  Model(const std::string& path, const char* schema_json, SqliteOptions opts = {})
      : StoredModel(std::make_unique<SqliteStorage>(path, opts), schema_json) {
    // What the Collection will do itself once it calls the hook from open()/set_schema().
    Status s = raw->set_indexes(c->schema().indexes());
    BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
  }
};

Change insert_change(const std::string& id, const std::string& doc, uint64_t seq) {
  Change ch;
  ch.op = Change::Op::Insert;
  ch.id = id;
  ch.doc = doc;
  ch.seq = seq;
  return ch;
}

const char* kSchema = R"({"fields":{"email":{"type":"string","unique":true},
  "status":{"type":"string","index":true}},"indexes":[{"fields":{"city":1,"age":-1}}]})";

}  // namespace

BOOST_AUTO_TEST_CASE(every_value_type_round_trips_through_a_restart) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  std::vector<std::string> before;
  {
    Model m(path, kSchema);
    m.insert({R"({"_id":5,"int":1,"neg":-42,"big":9007199254740993,"min":-9223372036854775808,
                 "float":1.0,"frac":3.25,"tiny":1e-300,"nan":{"$numberDouble":"NaN"},
                 "inf":{"$numberDouble":"-Infinity"},"str":"h\u00e9llo \"q\" \\ \n\t\u0001 \ud83d\ude00",
                 "empty":"","nil":null,"t":true,"f":false,"bin":{"$binary":"AAECAwD/"},
                 "date":{"$date":"2024-01-02T03:04:05.678Z"},"old":{"$date":"1960-05-06T07:08:09.010Z"},
                 "arr":[1,2.5,"x",null,{"k":[true,{"$date":"2024-01-02T03:04:05.678Z"}]}],
                 "nested":{"z":1,"a":{"b":{"c":[[]]}},"m":{}},"email":"a@x"})",
              R"({"_id":"5","email":"b@x","zfirst":1,"afirst":2})", R"({"_id":2.5,"email":"c@x"})",
              R"({"email":"d@x","status":"new"})",
              R"({"_id":{"$date":"2020-01-01T00:00:00.000Z"},"email":"e@x"})"});
    std::string f = J(R"({"_id":5})"), u = J(R"({"$set":{"nested.a.b.c":7,"float":2.0},
                                                 "$inc":{"int":1}})");
    BOOST_REQUIRE(m.c->update(V(f), V(u), false, false, &m.events).ok());
    std::string f2 = J(R"({"_id":"5"})"), r = J(R"({"y":1,"email":"b2@x"})");
    BOOST_REQUIRE(m.c->replace_one(V(f2), V(r), false, &m.events).ok());
    std::string f3 = J(R"({"_id":2.5})");
    BOOST_REQUIRE(m.c->remove(V(f3), false, &m.events).ok());
    m.commit();
    before = m.all();
    BOOST_TEST(before.size() == 4u);
  }  // the collection and its storage are destroyed here
  Model m(path, kSchema);
  BOOST_TEST(m.all() == before);  // byte for byte: types, values, field order
  std::string five = m.by_id("5");
  BOOST_TEST(json_from_mp(five).find(R"("int":2,"neg":-42,"big":9007199254740993,)") !=
             std::string::npos);
  BOOST_TEST((MpView(five).get("int").type() == MpType::Int));
  BOOST_TEST((MpView(five).get("float").type() == MpType::Float));
  BOOST_TEST((MpView(five).get("date").type() == MpType::Date));
  BOOST_TEST((MpView(five).get("bin").type() == MpType::Bin));
  BOOST_TEST(json_from_mp(m.by_id(R"("5")")) == R"({"_id":"5","y":1,"email":"b2@x"})");
  BOOST_TEST(m.by_id("2.5").empty());
  // the ids are distinct JSON texts in the table
  auto ids = query(path, "SELECT id FROM documents WHERE id IN ('5', '\"5\"') ORDER BY id");
  BOOST_TEST(ids == (std::vector<std::string>{"\"5\"", "5"}), boost::test_tools::per_element());
  // indexes of the reloaded collection work
  std::string q = J(R"({"email":"d@x"})");
  auto n = m.c->count(V(q));
  BOOST_TEST((n.ok() && n.value() == 1u));
}

BOOST_AUTO_TEST_CASE(seq_survives_reopen_and_a_killed_process) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  {
    Model m(path, kSchema);
    m.insert({R"({"_id":1,"email":"a@x"})", R"({"_id":2,"email":"b@x"})"});
    m.insert({R"({"_id":3,"email":"c@x"})"});
    m.commit();
    std::string f = J(R"({"_id":1})");
    BOOST_REQUIRE(m.c->remove(V(f), false, &m.events).ok());  // seq 4, committed by close
    BOOST_TEST(m.c->last_seq() == 4u);
  }
  BOOST_TEST(query(path, "SELECT value FROM meta WHERE key = 'last_seq'").at(0) == "4");
  {
    Model m(path, kSchema);
    BOOST_TEST(m.c->last_seq() == 4u);
    m.insert({R"({"_id":9,"email":"z@x"})"});
    BOOST_REQUIRE(!m.events.empty());
    BOOST_TEST(m.events.back().seq == 5u);
  }
  // A process killed after commit keeps everything committed, and nothing uncommitted.
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    SqliteStorage st(path, {});
    if (!open_quiet(st).ok()) _exit(2);
    std::string id = J("10"), doc = J(R"({"_id":10,"email":"k@x"})");
    Change ch = insert_change(id, doc, 6);
    if (!st.apply({&ch, 1}).ok() || !st.commit().ok()) _exit(3);
    std::string id2 = J("11"), doc2 = J(R"({"_id":11,"email":"u@x"})");
    Change ch2 = insert_change(id2, doc2, 7);
    if (!st.apply({&ch2, 1}).ok()) _exit(4);
    raise(SIGKILL);  // no commit, no close
  }
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  Model m(path, kSchema);
  BOOST_TEST(m.c->last_seq() == 6u);
  BOOST_TEST(!m.by_id("10").empty());
  BOOST_TEST(m.by_id("11").empty());
}

BOOST_AUTO_TEST_CASE(schema_indexes_become_expression_indexes_and_follow_changes) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  SqliteStorage st(path, {});
  BOOST_REQUIRE(open_quiet(st).ok());
  auto first = specs(R"({"fields":{"email":{"type":"string","unique":true},
    "status":{"index":true},"a-b":{"index":true},"we\"ird":{"index":true}},
    "indexes":[{"fields":{"city":1,"age":-1}},{"fields":{"address.city":1}}]})");
  Status s = st.set_indexes(first);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
  auto list = query(path,
                    "SELECT name, \"unique\" FROM pragma_index_list('documents') "
                    "WHERE name GLOB 'ix_*' ORDER BY name");
  BOOST_TEST(
      list == (std::vector<std::string>{"ix_a-b_1|0", "ix_address.city_1|0", "ix_city_1_age_-1|0",
                                        "ix_email_1|1", "ix_status_1|0"}),
      boost::test_tools::per_element());  // no SQLite path can name we"ird
  auto sql = query(path, "SELECT sql FROM sqlite_master WHERE name = 'ix_city_1_age_-1'");
  BOOST_TEST(sql.at(0) ==
             "CREATE INDEX \"ix_city_1_age_-1\" ON documents(json_extract(data, '$.city'), "
             "json_extract(data, '$.age') DESC)");
  // The form an operator types is served by the index.
  auto plan = query(path,
                    "EXPLAIN QUERY PLAN SELECT data FROM documents "
                    "WHERE json_extract(data,'$.email') = 'a@x'");
  BOOST_TEST(plan.at(0).find("USING INDEX ix_email_1") != std::string::npos);

  // status dropped, email no longer unique, a-b kept
  s = st.set_indexes(specs(R"({"fields":{"email":{"index":true},"a-b":{"index":true}},
    "indexes":[{"fields":{"city":1,"age":-1}},{"fields":{"address.city":1}}]})"));
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
  list = query(path,
               "SELECT name, \"unique\" FROM pragma_index_list('documents') "
               "WHERE name GLOB 'ix_*' ORDER BY name");
  BOOST_TEST(list == (std::vector<std::string>{"ix_a-b_1|0", "ix_address.city_1|0",
                                               "ix_city_1_age_-1|0", "ix_email_1|0"}),
             boost::test_tools::per_element());

  // A unique index over stored duplicates is refused and the indexes stay as they were.
  std::string id1 = J("1"), d1 = J(R"({"_id":1,"email":"same"})");
  std::string id2 = J("2"), d2 = J(R"({"_id":2,"email":"same"})");
  Change ch[] = {insert_change(id1, d1, 1), insert_change(id2, d2, 2)};
  BOOST_REQUIRE(st.apply(ch).ok());
  BOOST_REQUIRE(st.commit().ok());
  s = st.set_indexes(specs(R"({"fields":{"email":{"unique":true}}})"));
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(json_from_mp(s.key_pattern) == R"({"email":1})");
  BOOST_TEST(s.message.find(path) != std::string::npos);
  BOOST_TEST(query(path,
                   "SELECT count(*) FROM pragma_index_list('documents') "
                   "WHERE name GLOB 'ix_*'")
                 .at(0) == "4");
  // dropModel: no indexes at all
  BOOST_REQUIRE(st.set_indexes({}).ok());
  BOOST_TEST(query(path,
                   "SELECT count(*) FROM pragma_index_list('documents') "
                   "WHERE name GLOB 'ix_*'")
                 .at(0) == "0");
}

BOOST_AUTO_TEST_CASE(an_external_reader_sees_committed_rows_while_open) {
  TmpDir dir;
  std::string path = dir.file("User.db");
  Model m(path, kSchema);
  m.insert({R"({"_id":1,"email":"a@x"})", R"({"_id":2,"email":"b@x"})"});
  m.commit();
  const char* sql = "select json_extract(data,'$.email') from documents order by 1";
  BOOST_TEST(query(path, sql) == (std::vector<std::string>{"a@x", "b@x"}),
             boost::test_tools::per_element());
  m.insert({R"({"_id":3,"email":"c@x"})"});  // applied, not yet committed
  BOOST_TEST(query(path, sql).size() == 2u);
  m.commit();
  BOOST_TEST(query(path, sql).size() == 3u);
}

BOOST_AUTO_TEST_CASE(sqlites_own_unique_refusal_is_duplicate_key_and_applies_nothing) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  SqliteStorage st(path, {});
  BOOST_REQUIRE(open_quiet(st).ok());
  BOOST_REQUIRE(st.set_indexes(specs(R"({"fields":{"email":{"unique":true}}})")).ok());
  std::string id1 = J("1"), d1 = J(R"({"_id":1,"email":"a@x"})");
  std::string id2 = J("2"), d2 = J(R"({"_id":2,"email":"a@x"})");
  std::string id3 = J("3"), d3 = J(R"({"_id":3,"email":"c@x"})");
  // Both in one call (the engine's check bypassed): the call is refused whole.
  Change both[] = {insert_change(id1, d1, 1), insert_change(id2, d2, 2)};
  Status s = st.apply(both);
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(json_from_mp(s.key_pattern) == R"({"email":1})");
  BOOST_TEST(json_from_mp(s.key_value) == R"({"email":"a@x"})");
  BOOST_TEST(s.message.find(path) != std::string::npos);
  BOOST_TEST(st.last_seq() == 0u);
  BOOST_REQUIRE(st.commit().ok());
  BOOST_TEST(row_count(path) == 0u);

  // A refused call inside a batch leaves the batch's earlier calls alone.
  Change c1 = insert_change(id1, d1, 1);
  BOOST_REQUIRE(st.apply({&c1, 1}).ok());
  Change bad[] = {insert_change(id3, d3, 2), insert_change(id2, d2, 3)};
  BOOST_TEST(int(st.apply(bad).code) == int(ErrorCode::DuplicateKey));
  Change c2 = insert_change(id2, d2, 2);  // alone: one statement
  BOOST_TEST(int(st.apply({&c2, 1}).code) == int(ErrorCode::DuplicateKey));
  std::string d1b = J(R"({"_id":1,"email":"other@x"})");
  Change again = insert_change(id1, d1b, 2);  // the _id primary key
  s = st.apply({&again, 1});
  BOOST_TEST(int(s.code) == int(ErrorCode::DuplicateKey));
  BOOST_TEST(json_from_mp(s.key_pattern) == R"({"_id":1})");
  BOOST_TEST(json_from_mp(s.key_value) == R"({"_id":1})");
  Change del;
  del.op = Change::Op::Delete;
  del.id = id3;  // absent: not an error
  del.seq = 2;
  BOOST_TEST(st.apply({&del, 1}).ok());
  BOOST_REQUIRE(st.commit().ok());
  BOOST_TEST(query(path, "SELECT id, data FROM documents") ==
                 (std::vector<std::string>{R"(1|{"_id":1,"email":"a@x"})"}),
             boost::test_tools::per_element());
  BOOST_TEST(st.last_seq() == 2u);
}

BOOST_AUTO_TEST_CASE(a_full_database_is_storage_error_and_applies_nothing) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  SqliteStorage st(path, {});
  BOOST_REQUIRE(open_quiet(st).ok());
  std::string id0 = J("0"), d0 = J(R"({"_id":0})");
  Change c0 = insert_change(id0, d0, 1);
  BOOST_REQUIRE(st.apply({&c0, 1}).ok());
  BOOST_REQUIRE(st.commit().ok());
  // Cap the database a few pages above its size: SQLITE_FULL, deterministically.
  sqlite3_exec(st.connection(), "PRAGMA max_page_count = 20", nullptr, nullptr, nullptr);
  std::string big = std::string(R"({"_id":1,"s":")") + std::string(100000, 'x') + "\"}";
  std::string id1 = J("1"), id2 = J("2"), d1 = J(big.c_str()), small = J(R"({"_id":2})");
  std::string id3 = J("3"), small3 = J(R"({"_id":3})");
  Change c2 = insert_change(id2, small, 2);
  BOOST_REQUIRE(st.apply({&c2, 1}).ok());  // earlier in the same transaction
  // SQLite abandons the whole transaction here; the strategy rebuilds it without this call.
  Change big_alone = insert_change(id1, d1, 3);
  Status s = st.apply({&big_alone, 1});
  BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
  BOOST_TEST(s.message.find(path) != std::string::npos);
  BOOST_TEST(s.message.find("full") != std::string::npos);
  Change batch[] = {insert_change(id3, small3, 3), insert_change(id1, d1, 4)};
  BOOST_TEST(int(st.apply(batch).code) == int(ErrorCode::StorageError));
  BOOST_TEST(st.last_seq() == 2u);
  BOOST_REQUIRE(st.commit().ok());
  BOOST_TEST(
      query(path, "SELECT id FROM documents ORDER BY id") == (std::vector<std::string>{"0", "2"}),
      boost::test_tools::per_element());
  BOOST_TEST(query(path, "SELECT value FROM meta WHERE key = 'last_seq'").at(0) == "2");
  // After the limit is raised, writes work again.
  sqlite3_exec(st.connection(), "PRAGMA max_page_count = 1000000", nullptr, nullptr, nullptr);
  BOOST_REQUIRE(st.apply(batch).ok());
  BOOST_REQUIRE(st.commit().ok());
  BOOST_TEST(row_count(path) == 4u);
  BOOST_TEST(st.last_seq() == 4u);
}

BOOST_AUTO_TEST_CASE(a_file_size_limit_fails_the_commit_with_the_path) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {  // no Boost.Test in the child: the exit code tells what went wrong
    signal(SIGXFSZ, SIG_IGN);
    SqliteStorage st(path, {});
    if (!open_quiet(st).ok()) _exit(2);
    std::string id0 = J("0"), d0 = J(R"({"_id":0})");
    Change c0 = insert_change(id0, d0, 1);
    if (!st.apply({&c0, 1}).ok() || !st.commit().ok()) _exit(3);
    rlimit lim{256 << 10, RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &lim);
    std::string big = R"({"_id":1,"s":")" + std::string(1 << 20, 'x') + "\"}";
    std::string id1 = J("1"), d1 = J(big.c_str());
    Change c1 = insert_change(id1, d1, 2);
    Status s = st.apply({&c1, 1});  // pages usually stay in the cache until COMMIT
    if (s.ok()) s = st.commit();
    if (s.code != ErrorCode::StorageError || s.message.find(path) == std::string::npos) _exit(4);
    lim.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &lim);
    std::string id2 = J("2"), d2 = J(R"({"_id":2})");
    Change c2 = insert_change(id2, d2, 3);
    if (!st.apply({&c2, 1}).ok() || !st.commit().ok()) _exit(5);
    st.close();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  BOOST_TEST(
      query(path, "SELECT id FROM documents ORDER BY id") == (std::vector<std::string>{"0", "2"}),
      boost::test_tools::per_element());
  BOOST_TEST(query(path, "SELECT value FROM meta WHERE key = 'last_seq'").at(0) == "3");
}

BOOST_AUTO_TEST_CASE(clear_flush_destroy_and_stats) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  SqliteStorage st(path, SqliteOptions{.full_sync = false});
  BOOST_REQUIRE(open_quiet(st).ok());
  std::string id1 = J("1"), d1 = J(R"({"_id":1})");
  Change c1 = insert_change(id1, d1, 1);
  BOOST_REQUIRE(st.apply({&c1, 1}).ok());
  BOOST_TEST(st.stats().pending_bytes > 0u);
  Change clear;
  clear.op = Change::Op::Clear;
  clear.seq = 2;
  BOOST_REQUIRE(st.apply({&clear, 1}).ok());
  BOOST_REQUIRE(st.flush().ok());
  BOOST_TEST(row_count(path) == 0u);
  BOOST_TEST(st.last_seq() == 2u);
  BOOST_TEST(st.stats().commits == 1u);
  BOOST_TEST(st.stats().pending_bytes == 0u);
  BOOST_TEST(st.stats().bytes_on_disk > 0u);
  BOOST_TEST(query(path, "SELECT value FROM meta WHERE key = 'flushes'").at(0) == "1");
  BOOST_REQUIRE(st.destroy().ok());
  BOOST_TEST(!std::filesystem::exists(path));
  BOOST_TEST(!std::filesystem::exists(path + "-wal"));
  BOOST_TEST(int(st.apply({&c1, 1}).code) == int(ErrorCode::StorageError));
}

BOOST_AUTO_TEST_CASE(unreadable_files_are_storage_errors_naming_them) {
  TmpDir dir;
  std::string path = dir.file("M.db");
  std::ofstream(path) << std::string(8192, 'g');
  SqliteStorage garbage(path, {});
  Status s = open_quiet(garbage);
  BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
  BOOST_TEST(s.message.find(path) != std::string::npos);

  std::filesystem::remove(path);
  {
    SqliteStorage st(path, {});
    BOOST_REQUIRE(open_quiet(st).ok());
    sqlite3_exec(st.connection(), "INSERT INTO documents VALUES('\"x\"', '{\"_id\": oops')",
                 nullptr, nullptr, nullptr);
  }
  SqliteStorage bad_row(path, {});
  s = open_quiet(bad_row);
  BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
  BOOST_TEST(s.message.find(path) != std::string::npos);
  BOOST_TEST(s.message.find("\"x\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_sqlite_kind_checks_options_and_makes_model_files) {
  const StorageKind* k = find_storage_kind("sqlite");
  BOOST_REQUIRE(k);
  BOOST_TEST(k->persistent);
  auto norm = [&](const char* json) {
    std::string o = J(json);
    return k->normalize(V(o));
  };
  BOOST_TEST(json_from_mp(norm("{}").value()) == R"({"synchronous":"normal"})");
  BOOST_TEST(json_from_mp(k->normalize(MpView()).value()) == R"({"synchronous":"normal"})");
  BOOST_TEST(json_from_mp(norm(R"({"synchronous":"full"})").value()) ==
             R"({"synchronous":"full"})");
  for (const char* bad : {R"({"synchronous":"off"})", R"({"synchronous":1})",
                          R"({"synchronous":"FULL"})", R"({"journal":"wal"})", "[1]"}) {
    auto r = norm(bad);
    BOOST_TEST_INFO(bad);
    BOOST_TEST((!r.ok() && r.status().code == ErrorCode::InvalidOptions));
  }
  BOOST_TEST(norm(R"({"synchronous":"off"})").status().message.find("full") != std::string::npos);

  TmpDir dir;
  auto opts = norm(R"({"synchronous":"full"})");
  auto engine = k->open(dir.path, V(opts.value()));
  BOOST_REQUIRE(engine.ok());
  auto model = engine.value()->make_model("User");
  BOOST_REQUIRE(model->open([](std::string_view) { return Status::OK(); }).ok());
  BOOST_TEST(std::filesystem::exists(dir.file("User.db")));
  auto* st = dynamic_cast<SqliteStorage*>(model.get());
  BOOST_REQUIRE(st);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(st->connection(), "PRAGMA synchronous", -1, &q, nullptr);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(sqlite3_column_int(q, 0) == 2);  // FULL
  sqlite3_finalize(q);
  BOOST_TEST(query(dir.file("User.db"), "PRAGMA journal_mode").at(0) == "wal");
}

// After a failed commit the model has the strategy write back, as memory has them, the
// documents the group touched, with memory's last_seq (StorageStrategy::reconcile): here over
// a store that holds the refused group, as after a recovery replayed its WAL frames. While that
// cannot be done (the database read-only here) every write is refused and the intent file
// stays; the next write that can do it goes on; one recorded when the process ended is done by
// the next open(), before loading.
BOOST_AUTO_TEST_CASE(reconcile_writes_back_memory_and_refuses_writes_until_it_can) {
  TmpDir dir;
  std::string path = dir.file("M.db"), intent = path + "-reconcile";
  std::string id1 = J("1"), id2 = J("2"), id3 = J("3"), d1 = J(R"({"_id":1,"v":0})"),
              d2 = J(R"({"_id":2,"v":0})"), d2x = J(R"({"_id":2,"v":9})"),
              d3 = J(R"({"_id":3,"v":1})");
  auto change = [](Change::Op op, const std::string& id, const std::string& doc, uint64_t seq) {
    Change ch = insert_change(id, doc, seq);
    ch.op = op;
    if (op == Change::Op::Delete) ch.doc = {};
    return ch;
  };
  // Memory: 1 and 2 at v 0, seq 2.
  const std::vector<Change> back = {
      change(Change::Op::Delete, id1, "", 2), change(Change::Op::Delete, id2, "", 2),
      change(Change::Op::Delete, id3, "", 2), change(Change::Op::Replace, id1, d1, 2),
      change(Change::Op::Replace, id2, d2, 2)};
  auto rows = [&] { return query(path, "SELECT id, data FROM documents ORDER BY id"); };
  const std::vector<std::string> want = {R"(1|{"_id":1,"v":0})", R"(2|{"_id":2,"v":0})"};
  {
    SqliteStorage st(path, {});
    BOOST_REQUIRE(open_quiet(st).ok());
    Change acked[] = {insert_change(id1, d1, 1), insert_change(id2, d2, 2)};
    BOOST_REQUIRE(st.apply(acked).ok());
    BOOST_REQUIRE(st.commit().ok());
    Change refused[] = {insert_change(id3, d3, 3), change(Change::Op::Replace, id2, d2x, 4),
                        change(Change::Op::Delete, id1, "", 5)};
    BOOST_REQUIRE(st.apply(refused).ok());
    BOOST_REQUIRE(st.commit().ok());
    BOOST_TEST(st.last_seq() == 5u);

    sqlite3_exec(st.connection(), "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
    Status s = st.reconcile(back, 2);
    BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
    BOOST_TEST(s.message.find("writes are refused") != std::string::npos, s.message);
    BOOST_TEST(std::filesystem::exists(intent));
    Change next = insert_change(id3, d3, 3);
    s = st.apply({&next, 1});
    BOOST_TEST(int(s.code) == int(ErrorCode::StorageError));
    BOOST_TEST(s.message.find(intent) != std::string::npos, s.message);
    BOOST_TEST(!st.flush().ok());

    sqlite3_exec(st.connection(), "PRAGMA query_only = 0", nullptr, nullptr, nullptr);
    BOOST_REQUIRE(st.apply({&next, 1}).ok());  // written back first, then applied
    BOOST_TEST(!std::filesystem::exists(intent));
    BOOST_REQUIRE(st.commit().ok());
    BOOST_TEST(st.last_seq() == 3u);
    BOOST_TEST(rows() == (std::vector<std::string>{want[0], want[1], R"(3|{"_id":3,"v":1})"}),
               boost::test_tools::per_element());
    BOOST_TEST(query(path, "SELECT value FROM meta WHERE key = 'reconciles'").at(0) == "1");

    // Written back at once: nothing stays pending.
    BOOST_REQUIRE(st.reconcile(back, 2).ok());
    BOOST_TEST(!std::filesystem::exists(intent));
    BOOST_TEST(st.last_seq() == 2u);
    BOOST_TEST(rows() == want, boost::test_tools::per_element());
  }
  // Recorded when the process ended (the store still holding the refused group): open() writes
  // it back before it loads anything.
  {
    SqliteStorage st(path, {});
    BOOST_REQUIRE(open_quiet(st).ok());
    Change refused = change(Change::Op::Replace, id2, d2x, 3);
    BOOST_REQUIRE(st.apply({&refused, 1}).ok());
    BOOST_REQUIRE(st.commit().ok());
  }
  std::ofstream(intent, std::ios::binary) << encode_intent(back, 2);
  SqliteStorage st(path, {});
  std::vector<std::string> loaded;
  BOOST_REQUIRE(st.open([&](std::string_view doc) {
                    loaded.push_back(json_from_mp(doc));
                    return Status::OK();
                  }).ok());
  BOOST_TEST(loaded == (std::vector<std::string>{R"({"_id":1,"v":0})", R"({"_id":2,"v":0})"}),
             boost::test_tools::per_element());
  BOOST_TEST(st.last_seq() == 2u);
  BOOST_TEST(!std::filesystem::exists(intent));
}
