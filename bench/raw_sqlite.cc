// bench/raw_sqlite.cc — the raw SQLite loader (see raw_loaders.h).
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "bench/raw_loaders.h"
#include "bench/shape.h"
#include "bench/stats.h"
#include "core/ejson.h"
#include "core/objectid.h"

namespace mg::bench {

namespace {

// The expression indexes the sqlite backend builds for bench_schema (sqlite_storage.cc
// index_sql: "ix_" + MongoDB's index name).
const char* kIndexes[] = {
    "CREATE UNIQUE INDEX \"ix_email_1\" ON documents(json_extract(data, '$.email'))",
    "CREATE INDEX \"ix_status_1\" ON documents(json_extract(data, '$.status'))",
    "CREATE INDEX \"ix_city_1_age_1\" ON documents(json_extract(data, '$.city'), "
    "json_extract(data, '$.age'))",
};

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close_v2(db); }
  void check(int rc, const std::string& what) const {
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
      throw std::runtime_error("raw sqlite: " + what + ": " + sqlite3_errmsg(db));
  }
  void exec(const std::string& sql) const {
    check(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), sql);
  }
};

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : uint64_t(n);
}

}  // namespace

RawLoad raw_sqlite_load(const std::string& dir,
                        const std::vector<std::vector<std::string>>& batches) {
  std::string path = dir + "/Raw.db";
  Db d;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  d.check(sqlite3_open_v2(path.c_str(), &d.db, flags, nullptr), "open " + path);
  sqlite3_extended_result_codes(d.db, 1);
  sqlite3_busy_timeout(d.db, 5000);
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY",
        "CREATE TABLE documents(id TEXT PRIMARY KEY, data TEXT NOT NULL)"})
    d.exec(sql);
  for (const char* sql : kIndexes) d.exec(sql);
  sqlite3_stmt* raw = nullptr;
  const char* insert = "INSERT INTO documents(id, data) VALUES(?1, ?2)";
  d.check(sqlite3_prepare_v3(d.db, insert, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr), insert);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);

  uint64_t docs = 0;
  std::string id, id_json, doc_json;
  double t0 = now_s();
  for (auto& batch : batches) {
    d.exec("BEGIN IMMEDIATE");
    for (auto& doc : batch) {
      id.clear();
      MpWriter(id).str(new_object_id());
      std::string full = with_id(doc, MpView(id).as_str());
      id_json.clear(), doc_json.clear();
      msgpack_to_ejson(MpView(id), id_json);
      msgpack_to_ejson(MpView(full), doc_json);
      sqlite3_bind_text(raw, 1, id_json.data(), int(id_json.size()), SQLITE_STATIC);
      sqlite3_bind_text(raw, 2, doc_json.data(), int(doc_json.size()), SQLITE_STATIC);
      int rc = sqlite3_step(raw);
      sqlite3_reset(raw);
      d.check(rc, "INSERT");
    }
    d.exec("COMMIT");
    docs += batch.size();
  }
  RawLoad out;
  out.docs_per_s = double(docs) / (now_s() - t0);
  stmt.reset();
  double t1 = now_s();
  sqlite3_close_v2(d.db);
  d.db = nullptr;
  out.close_s = now_s() - t1;
  out.table_bytes = file_size(path) + file_size(path + "-wal");
  return out;
}

}  // namespace mg::bench
