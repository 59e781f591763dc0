// storage/sqlite_storage.cc — the `sqlite` strategy (see sqlite_storage.h).
//
// ON DISK. <data-dir>/<db>/<Model>.db, in WAL mode (so <Model>.db-wal and <Model>.db-shm sit
// beside it while it is open; they are part of the database, copy them too or use `.backup`):
//
//   CREATE TABLE documents(id TEXT PRIMARY KEY, data TEXT NOT NULL);
//   CREATE TABLE meta(key TEXT PRIMARY KEY, value);
//   CREATE UNIQUE INDEX "ix_email_1" ON documents(json_extract(data, '$.email'));
//   CREATE INDEX "ix_city_1_age_-1" ON documents(json_extract(data, '$.city'),
//                                                json_extract(data, '$.age') DESC);
//
// documents: one row per document. `id` is the document's _id as Extended JSON text (so the
//   _id 5 is the key `5` and the _id "5" the key `"5"`), `data` the whole document as Extended
//   JSON text (core/ejson.h: field order kept, floats always with a fraction or exponent,
//   dates {"$date": "<ISO-8601>"}, bin {"$binary": "<base64>"}). Example row:
//     id   = "66a1f0c2e4b0a1b2c3d4e5f6"                          (with the quotes)
//     data = {"_id":"66a1f0c2e4b0a1b2c3d4e5f6","email":"a@x.io","age":30,"score":1.0,
//             "at":{"$date":"2024-07-25T06:00:02.000Z"}}
//   Rows are loaded in rowid order; a replaced document keeps its row.
// meta: ('format', 1) — this layout; ('last_seq', N) — the highest change-stream seq applied,
//   written in the same transaction as the changes, so seq keeps growing across restarts
//   (CONTRACT.md §7); ('flushes', N) — explicit durability flushes done in `normal` mode;
//   ('reconciles', N) — write-backs after a failed commit (reconcile, sqlite_storage.h).
// <Model>.db-reconcile: only while such a write-back is not yet durable (storage/reconcile.h).
// indexes: one per schema index, named "ix_" + MongoDB's index name (email_1, city_1_age_-1),
//   UNIQUE where the schema says unique, DESC for direction -1. set_indexes() creates missing
//   ones and drops other "ix_*" ones; any other index an operator adds is left alone. A path
//   component that is a plain identifier is written `$.name` (the form external queries use,
//   so SQLite's planner matches them), any other is quoted `$."a-b"`.
//
// TRANSACTIONS. BEGIN IMMEDIATE at the first apply() after a commit; each apply() call of
// several changes runs in SAVEPOINT "apply" (one change is one statement, atomic by itself);
// commit() writes last_seq and COMMITs. The text given to SQLite since BEGIN is kept (it is
// also the buffer the statements bind from, SQLITE_STATIC): on SQLITE_FULL, IOERR or NOMEM
// SQLite may abandon the whole transaction, not just the failing statement, and then the
// earlier calls are replayed into a new one, so a failed call still costs only itself.
// `synchronous=NORMAL` (default): a commit survives a killed process, a power cut may lose the
// last ones; `FULL`: the WAL is fsynced at every commit. flush() in NORMAL mode makes every
// earlier commit durable by committing one small change with FULL (fsync of the WAL covers all
// frames before it).
//
// HOW SQLITE'S INDEXES DIFFER FROM MONGODB'S. The daemon answers queries from its in-memory
// indexes (MongoDB order, core/compare.h), and the engine's own unique check runs before a
// change reaches here: it is authoritative. SQLite's indexes are a second line of defence for
// uniqueness and serve external SQL readers. Where they diverge:
//   - order: json_extract gives NULL < INTEGER/REAL < TEXT; booleans are the integers 0/1
//     (among numbers), objects, arrays, dates and bin come out as their JSON text (among
//     strings, ordered by that text). MongoDB: null < numbers < strings < objects < arrays <
//     bin < bool < dates, dates by time.
//   - missing fields: json_extract gives SQL NULL for a missing field (and for null), and a
//     UNIQUE index admits any number of NULLs; MongoDB treats missing as null, so two
//     documents without the field conflict. The engine refuses those; SQLite would not.
//   - arrays: MongoDB indexes each element (multikey); SQLite the whole array's JSON text.
//   - equal only in SQLite: true and 1, false and 0, and a string equal to the JSON text of an
//     object, date or bin. A UNIQUE index then refuses a write MongoDB would take (DuplicateKey
//     from this backend). 1 and 1.0 are equal in both; {a: 1} and {a: 1.0} only in MongoDB.
//   - paths: a numeric component ("tags.0") is an object key for SQLite, never an array
//     position; a field name containing '"' cannot be written as a JSON path, so such an index
//     gets no SQLite counterpart.
#include "storage/sqlite_storage.h"

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <optional>

#include "core/ejson.h"
#include "core/path.h"

namespace mg {

namespace {

constexpr int kFormat = 1;

// Runs a prepared statement to completion (no rows expected) and resets it. On error, `msg`
// gets SQLite's message (taken before the reset).
int run(sqlite3* db, sqlite3_stmt* s, std::string& msg) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) msg = sqlite3_errmsg(db);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

// Steps a query while `rc` (from prepare, then from the last step) allows: true on a row.
// Afterwards rc is SQLITE_DONE when every row was read.
bool next_row(sqlite3_stmt* q, int& rc) {
  if (rc != SQLITE_OK && rc != SQLITE_ROW) return false;
  rc = sqlite3_step(q);
  return rc == SQLITE_ROW;
}

// A statement finalized when it goes out of scope (for one-off queries).
using Query = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;
Query prepare(sqlite3* db, const char* sql, int& rc) {
  sqlite3_stmt* q = nullptr;
  rc = sqlite3_prepare_v2(db, sql, -1, &q, nullptr);
  return Query(q, sqlite3_finalize);
}

std::string_view column_text(sqlite3_stmt* q, int i) {
  const char* t = reinterpret_cast<const char*>(sqlite3_column_text(q, i));
  return t ? std::string_view(t, size_t(sqlite3_column_bytes(q, i))) : std::string_view();
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(uint8_t(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(uint8_t(c)) || c == '_')) return false;
  return true;
}

std::string quote(std::string_view s, char q) {
  std::string out(1, q);
  for (char c : s) {
    if (c == q) out += q;
    out += c;
  }
  out += q;
  return out;
}

// The SQLite JSON path of a field ("$.address.city", "$.\"a-b\""), or nullopt when a component
// cannot be expressed (contains '"': SQLite 3.40's paths have no escape for it).
std::optional<std::string> json_path(const FieldPath& p) {
  std::string out = "$";
  for (const auto& part : p.parts) {
    if (part.find('"') != std::string::npos) return std::nullopt;
    out += '.';
    out += is_identifier(part) ? part : "\"" + part + "\"";
  }
  return out;
}

std::string index_name(const IndexSpec& spec) {
  return "ix_" + spec.name();
}

// CREATE statement of a schema index, exactly as SQLite keeps it in sqlite_master.sql.
std::optional<std::string> index_sql(const IndexSpec& spec) {
  std::string sql = spec.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  sql += quote(index_name(spec), '"') + " ON documents(";
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    auto path = json_path(spec.fields[i].first);
    if (!path) return std::nullopt;
    if (i) sql += ", ";
    sql += "json_extract(data, " + quote(*path, '\'') + ")";
    if (spec.fields[i].second < 0) sql += " DESC";
  }
  return sql + ")";
}

std::string key_pattern_of(const IndexSpec& spec) {
  std::string out;
  MpWriter w(out);
  w.map_header(uint32_t(spec.fields.size()));
  for (const auto& [path, dir] : spec.fields) w.str(path.dotted), w.integer(dir);
  return out;
}

std::string key_value_of(const IndexSpec& spec, MpView doc) {
  std::string out;
  MpWriter w(out);
  w.map_header(uint32_t(spec.fields.size()));
  for (const auto& [path, dir] : spec.fields) {
    w.str(path.dotted);
    MpView v = doc.valid() ? get_path(doc, path) : MpView();
    if (v.valid())
      w.raw(v);
    else
      w.nil();
  }
  return out;
}

}  // namespace

// The statements apply() and commit() reuse.
struct SqliteStorage::Stmts {
  sqlite3_stmt *insert = nullptr, *replace = nullptr, *remove = nullptr, *clear = nullptr;
  sqlite3_stmt *begin = nullptr, *commit = nullptr, *savepoint = nullptr, *release = nullptr;
  sqlite3_stmt *rollback_to = nullptr, *set_seq = nullptr;
  ~Stmts() {
    for (sqlite3_stmt* s :
         {insert, replace, remove, clear, begin, commit, savepoint, release, rollback_to, set_seq})
      sqlite3_finalize(s);
  }
};

SqliteStorage::SqliteStorage(std::string path, SqliteOptions opts)
    : path_(std::move(path)),
      opts_(opts),
      reconciler_(path_ + "-reconcile", "sqlite " + path_,
                  [this](std::span<const Change> changes, uint64_t seq) {
                    return write_back(changes, seq);
                  }) {}

SqliteStorage::~SqliteStorage() {
  close();
}

Status SqliteStorage::error(const char* what, int rc, const std::string& msg) const {
  std::string why = !msg.empty() ? msg : db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return make_status(ErrorCode::StorageError, "sqlite " + path_ + ": " + what + ": " + why +
                                                  " (SQLite code " + std::to_string(rc) + ")");
}

Status SqliteStorage::exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::OK() : error(sql, rc);
}

Status SqliteStorage::prepare_all() {
  st_ = std::make_unique<Stmts>();
  const std::pair<sqlite3_stmt**, const char*> all[] = {
      {&st_->insert, "INSERT INTO documents(id, data) VALUES(?1, ?2)"},
      {&st_->replace,
       "INSERT INTO documents(id, data) VALUES(?1, ?2) "
       "ON CONFLICT(id) DO UPDATE SET data = excluded.data"},
      {&st_->remove, "DELETE FROM documents WHERE id = ?1"},
      {&st_->clear, "DELETE FROM documents"},
      {&st_->begin, "BEGIN IMMEDIATE"},
      {&st_->commit, "COMMIT"},
      {&st_->savepoint, "SAVEPOINT apply"},
      {&st_->release, "RELEASE apply"},
      {&st_->rollback_to, "ROLLBACK TO apply"},
      {&st_->set_seq,
       "INSERT INTO meta(key, value) VALUES('last_seq', ?1) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
  };
  for (auto& [stmt, sql] : all) {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
    if (rc != SQLITE_OK) return error(sql, rc);
  }
  return Status::OK();
}

Status SqliteStorage::open(const std::function<Status(std::string_view doc)>& sink) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  Status s = rc == SQLITE_OK ? Status::OK() : error("cannot open", rc);
  if (s.ok()) {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, opts_.busy_timeout_ms);
    const char* setup[] = {
        "PRAGMA journal_mode=WAL",
        opts_.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
        "PRAGMA temp_store=MEMORY",  // savepoint journals stay in memory
        "CREATE TABLE IF NOT EXISTS documents(id TEXT PRIMARY KEY, data TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value)",
        "INSERT OR IGNORE INTO meta(key, value) VALUES('format', 1)",
    };
    for (const char* sql : setup)
      if (s.ok()) s = exec(sql);
  }
  if (s.ok()) s = prepare_all();
  if (s.ok()) s = reconciler_.recover();
  if (s.ok()) s = guard([&] { return load(sink); });
  if (!s.ok()) close();
  return s;
}

// Checks the format, reads last_seq and streams every document to `sink`.
Status SqliteStorage::load(const std::function<Status(std::string_view doc)>& sink) {
  int rc;
  Query meta = prepare(db_, "SELECT key, value FROM meta WHERE key IN ('format', 'last_seq')", rc);
  while (next_row(meta.get(), rc)) {
    std::string_view key = column_text(meta.get(), 0);
    int64_t v = sqlite3_column_int64(meta.get(), 1);
    if (key == "last_seq") log_.reset_seq(uint64_t(v));
    if (key == "format" && v != kFormat)
      return make_status(ErrorCode::StorageError,
                         "sqlite " + path_ + ": format " + std::to_string(v) + " is not supported");
  }
  if (rc != SQLITE_DONE) return error("cannot read meta", rc);
  Query docs = prepare(db_, "SELECT id, data FROM documents ORDER BY rowid", rc);
  std::string doc;
  Status s;
  while (s.ok() && next_row(docs.get(), rc)) {
    doc.clear();
    s = ejson_to_msgpack(column_text(docs.get(), 1), doc);
    if (s.ok())
      s = sink(doc);
    else
      s = make_status(ErrorCode::StorageError, "sqlite " + path_ + ": document with id " +
                                                   std::string(column_text(docs.get(), 0)) + ": " +
                                                   s.message);
  }
  if (s.ok() && rc != SQLITE_DONE) s = error("cannot read documents", rc);
  return s;
}

Status SqliteStorage::begin_if_needed() {
  if (in_txn_) return Status::OK();
  std::string msg;
  int rc = run(db_, st_->begin, msg);
  if (rc != SQLITE_DONE) return error("BEGIN", rc, msg);
  in_txn_ = true;
  return Status::OK();
}

Status SqliteStorage::apply(std::span<const Change> changes) {
  if (!db_) return make_status(ErrorCode::StorageError, "sqlite " + path_ + ": not open");
  if (!log_.lost().ok()) return log_.lost();
  if (Status r = reconciler_.retry(); !r.ok()) return r;
  if (changes.empty()) return Status::OK();
  Status s = begin_if_needed();
  if (!s.ok()) return s;
  // One statement is atomic by itself; several need a savepoint to be undone together.
  bool savepoint = changes.size() > 1;
  GroupLog::Mark mark = log_.mark();
  std::string msg;
  int rc = savepoint ? run(db_, st_->savepoint, msg) : SQLITE_DONE;
  if (rc != SQLITE_DONE) return undo(error("SAVEPOINT", rc, msg), false);
  for (size_t i = 0; s.ok() && i < changes.size(); ++i) s = apply_one(changes[i]);
  if (s.ok() && savepoint && (rc = run(db_, st_->release, msg)) != SQLITE_DONE)
    s = error("RELEASE", rc, msg);
  if (!s.ok()) {
    log_.cut(mark);
    return undo(std::move(s), savepoint);
  }
  log_.applied(changes.back().seq);
  return Status::OK();
}

// Logs `ch` as the text SQLite gets and executes it.
Status SqliteStorage::apply_one(const Change& ch) {
  const GroupLog::Entry& e = log_.add(
      ch, [&](std::string& out) { msgpack_to_ejson(MpView(ch.id), out); },
      [&](std::string& out) { msgpack_to_ejson(MpView(ch.doc), out); });
  std::string msg;
  int rc = run_logged(e, msg);
  if (rc == SQLITE_DONE) return Status::OK();
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return duplicate_key(ch, msg);
  std::string what = ch.op == Change::Op::Clear
                         ? std::string("cannot delete all documents")
                         : "cannot write the document with _id " + std::string(log_.key(e));
  return error(what.c_str(), rc, msg);
}

// Binds a logged change's text (SQLITE_STATIC: the log outlives the step) and runs it.
int SqliteStorage::run_logged(const GroupLog::Entry& e, std::string& msg) {
  if (e.op == Change::Op::Clear) return run(db_, st_->clear, msg);
  sqlite3_stmt* s = e.op == Change::Op::Delete   ? st_->remove
                    : e.op == Change::Op::Insert ? st_->insert
                                                 : st_->replace;
  std::string_view id = log_.key(e), doc = log_.doc(e);
  sqlite3_bind_text(s, 1, id.data(), int(id.size()), SQLITE_STATIC);
  if (e.op != Change::Op::Delete)
    sqlite3_bind_text(s, 2, doc.data(), int(doc.size()), SQLITE_STATIC);
  return run(db_, s, msg);
}

// DuplicateKey for a change SQLite refused with "UNIQUE constraint failed: index 'ix_...'" or
// "... documents.id", with keyPattern/keyValue when the index is known.
Status SqliteStorage::duplicate_key(const Change& ch, const std::string& msg) const {
  Status s = make_status(ErrorCode::DuplicateKey, "");
  MpView doc = ch.doc.empty() ? MpView() : MpView(ch.doc);
  std::string index = "?";
  if (msg.find("documents.id") != std::string::npos) {
    index = "_id_";
    IndexSpec id;
    id.fields.emplace_back(FieldPath::parse("_id"), 1);
    s.key_pattern = key_pattern_of(id);
    MpWriter w(s.key_value);
    w.map_header(1);
    w.str("_id"), w.raw(ch.id);
  }
  for (const IndexSpec& spec : indexes_) {
    if (msg.find("'" + index_name(spec) + "'") == std::string::npos) continue;
    index = spec.name();
    s.key_pattern = key_pattern_of(spec);
    s.key_value = key_value_of(spec, doc);
  }
  s.message = "E11000 duplicate key error in " + path_ + ": unique index " + index +
              (s.key_value.empty() ? "" : " dup key: " + json_from_mp(s.key_value)) +
              " (refused by SQLite: " + msg + ")";
  return s;
}

// After a failed apply(): undoes the failing call alone. SQLite normally keeps the open
// transaction (the statement, or our savepoint, is rolled back); on SQLITE_FULL, IOERR or
// NOMEM it may abandon the whole transaction instead, and then the earlier calls are replayed.
Status SqliteStorage::undo(Status why, bool savepoint) {
  std::string msg;
  if (!sqlite3_get_autocommit(db_)) {
    if (!savepoint) return why;
    if (run(db_, st_->rollback_to, msg) == SQLITE_DONE &&
        run(db_, st_->release, msg) == SQLITE_DONE)
      return why;
    (void)exec("ROLLBACK");
  }
  rebuild_transaction(why);
  return why;
}

// The open transaction is gone (`why`): re-executes the logged changes of the calls that
// succeeded since BEGIN in a new one. If that fails too they are lost: every later apply()
// fails until commit(), which reports it, so the caller rolls the whole group back.
void SqliteStorage::rebuild_transaction(const Status& why) {
  in_txn_ = false;
  if (log_.empty()) return;
  Status s = begin_if_needed();
  std::string msg;
  for (size_t i = 0; s.ok() && i < log_.entries().size(); ++i) {
    int rc = run_logged(log_.entries()[i], msg);
    if (rc != SQLITE_DONE) s = make_status(ErrorCode::StorageError, msg);
  }
  if (s.ok()) return;
  if (!sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  in_txn_ = false;
  log_.lose("sqlite " + path_ + ": SQLite abandoned the open transaction (" + why.message +
            ") and rebuilding it failed (" + s.message + ")");
}

Status SqliteStorage::write_last_seq(uint64_t seq) {
  std::string msg;
  sqlite3_bind_int64(st_->set_seq, 1, int64_t(seq));
  int rc = run(db_, st_->set_seq, msg);
  return rc == SQLITE_DONE ? Status::OK() : error("cannot write last_seq", rc, msg);
}

Status SqliteStorage::commit() {
  // A lost group: the caller rolls it back, later groups go on.
  if (Status lost = log_.take_lost(); !lost.ok()) return lost;
  if (!in_txn_) return Status::OK();
  Status s =
      log_.last_seq() != log_.committed_seq() ? write_last_seq(log_.last_seq()) : Status::OK();
  std::string msg;
  int rc = s.ok() ? run(db_, st_->commit, msg) : SQLITE_ERROR;
  if (s.ok() && rc != SQLITE_DONE) s = error("COMMIT", rc, msg);
  if (!s.ok() && !sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  in_txn_ = false;
  log_.end(s.ok());
  if (!s.ok()) return s;
  unsynced_ = !opts_.full_sync;
  ++commits_;
  return Status::OK();
}

// One transaction: the changes and last_seq, plus ('reconciles', N + 1) so that it always
// writes at least one page (a Delete of an absent row and an unchanged last_seq write none,
// and a commit of no frames would leave the failed frames as they are). Committed with
// synchronous=FULL in either mode.
Status SqliteStorage::write_back(std::span<const Change> changes, uint64_t seq) {
  if (!db_) return make_status(ErrorCode::StorageError, "sqlite " + path_ + ": not open");
  Status s = opts_.full_sync ? Status::OK() : exec("PRAGMA synchronous=FULL");
  if (s.ok()) s = begin_if_needed();
  for (size_t i = 0; s.ok() && i < changes.size(); ++i) s = apply_one(changes[i]);
  if (s.ok()) s = write_last_seq(seq);
  if (s.ok())
    s = exec(
        "INSERT INTO meta(key, value) VALUES('reconciles', 1) "
        "ON CONFLICT(key) DO UPDATE SET value = value + 1");
  std::string msg;
  int rc = s.ok() ? run(db_, st_->commit, msg) : SQLITE_ERROR;
  if (s.ok() && rc != SQLITE_DONE) s = error("COMMIT", rc, msg);
  if (!s.ok() && !sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  in_txn_ = false;
  log_.end(false);
  if (!opts_.full_sync) {
    Status back = exec("PRAGMA synchronous=NORMAL");
    if (s.ok()) s = back;
  }
  if (!s.ok()) return s;
  log_.reset_seq(seq);
  unsynced_ = false;  // the FULL commit synced the WAL up to its end
  return Status::OK();
}

Status SqliteStorage::reconcile(std::span<const Change> changes, uint64_t seq) {
  if (!db_) return make_status(ErrorCode::StorageError, "sqlite " + path_ + ": not open");
  return reconciler_.reconcile(changes, seq);
}

Status SqliteStorage::flush() {
  if (!db_) return Status::OK();
  if (Status r = reconciler_.retry(); !r.ok()) return r;
  Status s = commit();
  if (!s.ok() || !unsynced_) return s;
  // A commit with synchronous=FULL fsyncs the WAL, and with it every frame written before.
  s = exec("PRAGMA synchronous=FULL");
  if (s.ok()) s = exec("BEGIN IMMEDIATE");
  if (s.ok())
    s = exec(
        "INSERT INTO meta(key, value) VALUES('flushes', 1) "
        "ON CONFLICT(key) DO UPDATE SET value = value + 1");
  if (s.ok()) s = exec("COMMIT");
  if (!s.ok() && !sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  Status back = exec("PRAGMA synchronous=NORMAL");
  if (!s.ok()) return s;
  unsynced_ = false;
  return back;
}

void SqliteStorage::close() {
  if (!db_) return;
  if (log_.lost().ok()) (void)flush();
  st_.reset();
  // Closing the last connection checkpoints the WAL into the database file.
  sqlite3_close_v2(db_);
  db_ = nullptr;
  in_txn_ = false;
}

Status SqliteStorage::destroy() {
  close();
  for (const char* suffix : {"", "-wal", "-shm", "-journal", "-reconcile", "-reconcile.tmp"}) {
    std::error_code ec;
    std::filesystem::remove(path_ + suffix, ec);
    if (ec)
      return make_status(ErrorCode::StorageError,
                         "sqlite: cannot remove " + path_ + suffix + ": " + ec.message());
  }
  return Status::OK();
}

StorageStats SqliteStorage::stats() const {
  StorageStats s;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    auto n = std::filesystem::file_size(path_ + suffix, ec);
    if (!ec) s.bytes_on_disk += n;
  }
  s.pending_bytes = log_.bytes();
  s.commits = commits_;
  return s;
}

// Lists the "ix_*" indexes of `documents`: name -> CREATE statement.
Status SqliteStorage::existing_indexes(std::map<std::string, std::string>& out) {
  int rc;
  Query q = prepare(db_,
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'documents' AND name GLOB 'ix_*'",
                    rc);
  while (next_row(q.get(), rc)) out[std::string(column_text(q.get(), 0))] = column_text(q.get(), 1);
  return rc == SQLITE_DONE ? Status::OK() : error("cannot list indexes", rc);
}

// Drops the "ix_*" indexes not in `want` (or built differently) and creates the missing ones.
Status SqliteStorage::sync_indexes(const std::vector<IndexSpec>& want) {
  std::map<std::string, std::string> have, wanted;
  Status s = existing_indexes(have);
  for (const IndexSpec& spec : want)
    if (auto sql = index_sql(spec)) wanted[index_name(spec)] = *sql;
  for (auto& [name, sql] : have) {
    if (!s.ok()) break;
    auto it = wanted.find(name);
    if (it == wanted.end() || it->second != sql)
      s = exec(("DROP INDEX " + quote(name, '"')).c_str());
  }
  for (const IndexSpec& spec : want) {
    auto it = wanted.find(index_name(spec));
    if (!s.ok() || it == wanted.end() || have[it->first] == it->second) continue;
    int rc = sqlite3_exec(db_, it->second.c_str(), nullptr, nullptr, nullptr);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      s = make_status(
          ErrorCode::DuplicateKey,
          "cannot build unique index " + spec.name() + " in " + path_ +
              ": stored documents share a key (refused by SQLite: " + sqlite3_errmsg(db_) + ")");
      s.key_pattern = key_pattern_of(spec);
    } else if (rc != SQLITE_OK) {
      s = error(("cannot build index " + spec.name()).c_str(), rc);
    }
  }
  return s;
}

Status SqliteStorage::set_indexes(const std::vector<IndexSpec>& indexes) {
  if (!db_) return make_status(ErrorCode::StorageError, "sqlite " + path_ + ": not open");
  if (!log_.lost().ok()) return log_.lost();
  // Inside the open transaction (committed with its batch) or, outside one, as its own.
  Status s = exec("SAVEPOINT indexes");
  if (s.ok()) s = guard([&] { return sync_indexes(indexes); });
  if (s.ok()) s = exec("RELEASE indexes");
  if (s.ok()) {
    indexes_ = indexes;
    unsynced_ = unsynced_ || (!in_txn_ && !opts_.full_sync);
    return s;
  }
  if (!sqlite3_get_autocommit(db_)) {
    (void)exec("ROLLBACK TO indexes");
    (void)exec("RELEASE indexes");
    if (!in_txn_ && !sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  } else if (in_txn_) {
    rebuild_transaction(s);  // SQLite abandoned the batch's transaction
  }
  return s;
}

// Online backup: commit and sync, then copy every page with sqlite3_backup_* into a new
// database beside the others of the backup (the copy keeps WAL mode in its header).
Result<bool> SqliteStorage::backup(const std::string& dir) {
  if (!db_) return make_status(ErrorCode::StorageError, "sqlite " + path_ + ": not open");
  Status s = flush();
  if (!s.ok()) return s;
  std::string to = dir + "/" + std::filesystem::path(path_).filename().string();
  sqlite3* dst = nullptr;
  int rc = sqlite3_open_v2(to.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", db_, "main");
    if (!b) {
      rc = sqlite3_errcode(dst);
    } else {
      rc = sqlite3_backup_step(b, -1);
      int fin = sqlite3_backup_finish(b);
      rc = rc == SQLITE_DONE ? fin : rc;
    }
  }
  std::string why = rc == SQLITE_OK ? "" : dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(dst, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close_v2(dst);
  if (rc != SQLITE_OK)
    return make_status(ErrorCode::StorageError,
                       "sqlite backup of " + path_ + " to " + to +
                           " failed: " + (why.empty() ? sqlite3_errstr(rc) : why));
  return true;
}

// ---- the `sqlite` kind ----------------------------------------------------------------------

namespace {

class SqliteEngine final : public StorageEngine {
 public:
  SqliteEngine(std::string dir, SqliteOptions opts) : dir_(std::move(dir)), opts_(opts) {}
  std::unique_ptr<StorageStrategy> make_model(const std::string& name) override {
    return std::make_unique<SqliteStorage>(dir_ + "/" + name + ".db", opts_);
  }

 private:
  const std::string dir_;
  const SqliteOptions opts_;
};

}  // namespace

StorageKind sqlite_storage_kind() {
  StorageKind k;
  k.name = "sqlite";
  k.persistent = true;
  k.normalize = [](MpView options) -> Result<std::string> {
    std::string sync = "normal";
    Status s = for_each_option(options, "sqlite", {"synchronous"}, [&](std::string_view, MpView v) {
      if (v.type() != MpType::Str || (v.as_str() != "normal" && v.as_str() != "full"))
        fail(ErrorCode::InvalidOptions,
             "sqlite option 'synchronous' must be \"normal\" or \"full\"");
      sync = v.as_str();
    });
    if (!s.ok()) return s;
    std::string out;
    MpWriter w(out);
    w.map_header(1);
    w.str("synchronous"), w.str(sync);
    return out;
  };
  k.open = [](const std::string& dir, MpView options) -> Result<std::shared_ptr<StorageEngine>> {
    SqliteOptions opts;
    MpView sync =
        options.valid() && options.type() == MpType::Map ? options.get("synchronous") : MpView();
    opts.full_sync = sync.valid() && sync.type() == MpType::Str && sync.as_str() == "full";
    return std::shared_ptr<StorageEngine>(std::make_shared<SqliteEngine>(dir, opts));
  };
  return k;
}

}  // namespace mg
