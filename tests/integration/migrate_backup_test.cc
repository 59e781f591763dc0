// tests/integration/migrate_backup_test.cc — the `migrate` and `backup` ops and
// `createDatabase {fromBackup}` (issue 10, items 2 and 3) through the real memgoosed:
//  - a model migrated file → SQLite → WiredTiger → memory arrives with identical content
//    (every document compared, every type), its schema and unique index, the same checksum
//    at every hop, in several batches, while another model takes writes;
//  - migration errors carry the contract's codes;
//  - a backup taken under write load restores, on every backend, to a consistent state:
//    every document acknowledged before the backup began is in it, each whole; the restored
//    persistent databases survive a restart.
#define BOOST_TEST_MODULE integration_migrate_backup
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "tests/integration/harness.h"

using namespace mg::it;

namespace {

// FindArgs from JSON filter and sort.
mg::client::FindArgs fargs(std::string_view filter, std::string_view sort = {}) {
  return find_args(J(filter), sort.empty() ? std::string() : J(sort));
}

std::string typed_doc(int i) {
  return J(R"({"_id":)" + std::to_string(i) + R"(,"email":"u)" + std::to_string(i) +
           R"(@x.io","int":-42,"big":9007199254740993,"float":1.0,"frac":3.25,
           "str":"h\u00e9llo","nil":null,"t":true,"bin":{"$binary":"AAECAwD/"},
           "date":{"$date":"2024-01-02T03:04:05.678Z"},"arr":[1,2.5,"x",null,{"k":[false]}],
           "nested":{"z":1,"a":{"b":{}}},"n":)" +
           std::to_string(i) + "}");
}

// Every document of a model as Extended JSON, by _id.
std::map<std::string, std::string> contents(Client& c, const std::string& db,
                                            const std::string& model) {
  std::map<std::string, std::string> out;
  for (auto& d : c.find(db, model, fargs("{}"))) out[js(MpView(d).get("_id"))] = js(d);
  return out;
}

Request migrate(const std::string& db, const std::string& model, const std::string& to_db,
                int batch = 1000) {
  return Request("migrate", db, model).arg_str("toDb", to_db).arg_int("batchSize", batch);
}

const char* kSchema = R"({"fields":{"email":{"type":"string","unique":true},
  "n":{"type":"int","index":true}}})";

}  // namespace

BOOST_AUTO_TEST_CASE(migration_file_sqlite_wiredtiger_memory_keeps_identical_content) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options(60000));
  BOOST_TEST(c.create_database("f", "file", J("{}")));
  BOOST_TEST(c.create_database("s", "sqlite", J("{}")));
  BOOST_TEST(c.create_database("w", "wiredtiger", J(R"({"cacheSize":"32M"})")));
  BOOST_TEST(c.create_database("m", "memory", J("{}")));
  BOOST_TEST(c.define_model("f", "User", J(kSchema)));
  std::vector<std::string> docs;
  for (int i = 0; i < 2500; ++i) docs.push_back(typed_doc(i));
  for (size_t k = 0; k < docs.size(); k += 500)
    c.insert_many("f", "User",
                  std::vector<std::string>(docs.begin() + long(k), docs.begin() + long(k + 500)));
  c.insert_one("f", "User", J(R"({"_id":"str-id","email":"s@x.io","n":-1})"));
  auto original = contents(c, "f", "User");
  BOOST_REQUIRE(original.size() == 2501u);

  // Writes to another model go on during the migrations, and are all answered.
  std::atomic<bool> stop{false};
  std::atomic<int> other_writes{0};
  std::thread writer([&] {
    Client w(d.req_endpoint(), client_options(60000));
    while (!stop) {
      w.insert_one("f", "Other", J(R"({"x":1})"));
      ++other_writes;
    }
  });

  std::string checksum;
  const std::vector<std::pair<std::string, std::string>> hops = {
      {"f", "s"}, {"s", "w"}, {"w", "m"}};
  for (auto& [from, to] : hops) {
    BOOST_TEST_CONTEXT("migrate " << from << ".User -> " << to) {
      Reply r = EXPECT_OK(c, migrate(from, "User", to));
      BOOST_TEST(r.get("migrated").as_int() == 2501);
      BOOST_TEST(r.get("batches").as_int() == 3);
      BOOST_TEST(r.get("source").get("count").as_int() == 2501);
      BOOST_TEST(r.get("destination").get("count").as_int() == 2501);
      std::string sum(r.get("checksum").as_str());
      BOOST_TEST(sum.size() == 32u);
      if (checksum.empty()) checksum = sum;
      BOOST_TEST(sum == checksum);  // identical content: identical checksum at every hop
      BOOST_TEST(contents(c, to, "User") == original);
      // The schema came along: its unique index refuses a duplicate email.
      EXPECT_ERROR(c, Request("insertOne", to, "User").arg("doc", J(R"({"email":"u7@x.io"})")),
                   11000);
      MpView schema = by_name(c.list_models(to).get("models"), "User").get("schema");
      BOOST_TEST(schema.get("fields").get("n").get("index").as_bool());
    }
  }
  stop = true;
  writer.join();
  BOOST_TEST(other_writes.load() > 0);
  BOOST_TEST(c.count("f", "Other") == other_writes.load());
  BOOST_TEST(contents(c, "f", "User") == original);  // the source is left as it was
}

BOOST_AUTO_TEST_CASE(migration_errors_carry_contract_codes) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options());
  BOOST_TEST(c.create_database("a", "sqlite", J("{}")));
  BOOST_TEST(c.create_database("b", "file", J("{}")));
  c.insert_one("a", "M", J(R"({"x":1})"));
  c.insert_one("b", "M", J(R"({"y":1})"));
  EXPECT_ERROR(c, migrate("a", "Missing", "b"), 26);  // no such model
  EXPECT_ERROR(c, migrate("nope", "M", "b"), 26);     // no such database
  EXPECT_ERROR(c, migrate("a", "M", "nope"), 26);
  Error e = EXPECT_ERROR(c, migrate("a", "M", "b"), 2);  // destination exists, not empty
  BOOST_TEST(e.message().find("holds 1 documents") != std::string::npos);
  EXPECT_ERROR(c, migrate("a", "M", "a"), 2);  // the same model
  EXPECT_ERROR(c, Request("migrate", "a", "M").arg_str("toDb", "bad name"), 2);
  EXPECT_ERROR(c, Request("migrate", "a", "M"), 2);  // toDb missing
  EXPECT_ERROR(c, migrate("a", "M", "b", 0), 2);
  // Into an empty model of another name: fine, and the data arrives.
  Reply r = EXPECT_OK(c, migrate("a", "M", "b").arg_str("toModel", "Copy"));
  BOOST_TEST(r.get("migrated").as_int() == 1);
  BOOST_TEST(c.count("b", "Copy", J(R"({"x":1})")) == 1);
}

// A writer inserts documents {_id: i, n: i, pad} one at a time; the backup is requested after
// `acked` documents were acknowledged. The restored database must hold all of them, each whole.
BOOST_AUTO_TEST_CASE(backup_under_write_load_restores_consistently_on_every_backend) {
  DaemonProcess d;
  Client c(d.req_endpoint(), client_options(60000));
  const std::vector<std::pair<std::string, std::string>> backends = {
      {"memory", "{}"},
      {"file", R"({"persistMode":"debounced"})"},
      {"sqlite", "{}"},
      {"wiredtiger", R"({"cacheSize":"32M"})"}};
  std::string pad(300, 'p');
  for (auto& [storage, opts] : backends) {
    BOOST_TEST_CONTEXT("storage " << storage) {
      std::string db = "src_" + storage;
      BOOST_TEST(c.create_database(db, storage, J(opts)));
      BOOST_TEST(c.define_model(db, "Log", J(R"({"fields":{"n":{"type":"int","unique":true}}})")));
      c.insert_one(db, "Static", J(R"({"_id":"s","v":1})"));
      std::atomic<int> acked{0};
      std::atomic<bool> stop{false};
      std::thread writer([&, db] {
        Client w(d.req_endpoint(), client_options(60000));
        for (int i = 0; !stop; ++i) {
          w.insert_one(db, "Log",
                       J(R"({"_id":)" + std::to_string(i) + R"(,"n":)" + std::to_string(i) +
                         R"(,"pad":")" + pad + R"("})"));
          acked = i + 1;
        }
      });
      while (acked < 300) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      int before = acked.load();
      Reply r = EXPECT_OK(c, Request("backup", db).arg_str("name", "bk_" + storage));
      int after_reply = acked.load();
      // Writes went on while the backup ran (the backup did not stop them for long).
      while (acked < after_reply + 50) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      stop = true;
      writer.join();
      BOOST_TEST(std::string(r.get("backup").as_str()) == "bk_" + storage);
      BOOST_TEST(std::filesystem::exists(d.data_dir() + "/_backups/bk_" + storage));
      EXPECT_ERROR(c, Request("backup", db).arg_str("name", "bk_" + storage), 2);  // taken

      std::string restored = "rs_" + storage;
      Reply cr =
          EXPECT_OK(c, Request("createDatabase", restored).arg_str("fromBackup", "bk_" + storage));
      BOOST_TEST(cr.get("created").as_bool());
      int64_t n = c.count(restored, "Log");
      BOOST_TEST(n >= before);        // every acknowledged-before document is in it
      BOOST_TEST(n <= acked.load());  // nothing that was never written
      // Whole documents, the prefix 0..n-1 exactly (one writer, in order): nothing half-written.
      auto docs = c.find(restored, "Log", fargs("{}", R"({"_id":1})"));
      BOOST_REQUIRE(int64_t(docs.size()) == n);
      for (int64_t i = 0; i < n; ++i) {
        MpView doc(docs[size_t(i)]);
        BOOST_TEST(doc.get("_id").as_int() == i);
        BOOST_TEST(doc.get("n").as_int() == i);
        BOOST_TEST(doc.get("pad").as_str() == pad);
      }
      BOOST_TEST(c.count(restored, "Static") == 1);
      // The schema came back: the unique index is enforced.
      EXPECT_ERROR(c, Request("insertOne", restored, "Log").arg("doc", J(R"({"n":0})")), 11000);
      Reply list = c.list_databases();
      BOOST_TEST(std::string(by_name(list.get("databases"), restored).get("storage").as_str()) ==
                 storage);
    }
  }
  // Restore errors: unknown backup, existing database, another storage.
  EXPECT_ERROR(c, Request("createDatabase", "x").arg_str("fromBackup", "none"), 26);
  EXPECT_ERROR(c, Request("createDatabase", "rs_file").arg_str("fromBackup", "bk_file"), 2);
  EXPECT_ERROR(
      c,
      Request("createDatabase", "y").arg_str("storage", "sqlite").arg_str("fromBackup", "bk_file"),
      72);
  EXPECT_ERROR(c, Request("createDatabase", "_backups").arg_str("storage", "file"), 2);
  EXPECT_ERROR(c, Request("backup", "nope").arg_str("name", "b1"), 26);

  // The restored persistent databases are ordinary databases: they survive a restart.
  std::map<std::string, int64_t> counts;
  for (auto& [storage, _] : backends)
    if (storage != "memory") counts[storage] = c.count("rs_" + storage, "Log");
  BOOST_TEST(d.stop() == 0);
  d.start();
  Client c2(d.req_endpoint(), client_options());
  for (auto& [storage, n] : counts) BOOST_TEST(c2.count("rs_" + storage, "Log") == n);
}
