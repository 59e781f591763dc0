// clients/cli/data.cc — moving data between databases: `memgoose createdb`, `migrate` and
// `backup` (docs/PROTOCOL.md: createDatabase {fromBackup}, migrate, backup).
//
// `migrate` sends one `migrate` request (the daemon copies and verifies) and, while it runs,
// polls the destination's count on a second connection to draw a progress bar on stderr (when
// stderr is a terminal); it then prints the daemon's summary: documents, batches, checksum.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "clients/cli/cli.h"

namespace mg::cli {

namespace {
using Clock = std::chrono::steady_clock;

void draw(int64_t done, int64_t total) {
  int pct = total > 0 ? int(std::min<int64_t>(done * 100 / total, 100)) : 100;
  int filled = pct * 30 / 100;
  std::fprintf(stderr, "\r[%s%s] %3d%%  %lld/%lld docs", std::string(size_t(filled), '#').c_str(),
               std::string(size_t(30 - filled), ' ').c_str(), pct, static_cast<long long>(done),
               static_cast<long long>(total));
}
}  // namespace

int run_createdb(const Connection& conn, const CreateDbOptions& o) {
  client::Client c(conn.endpoint, client_options(conn));
  client::Request req("createDatabase", o.db);
  if (!o.storage.empty()) req.arg_str("storage", o.storage);
  if (!o.options.empty()) req.arg("options", json_object_arg("--options", o.options));
  if (!o.from_backup.empty()) req.arg_str("fromBackup", o.from_backup);
  print_reply(c.command(std::move(req)));
  return 0;
}

int run_backup(const Connection& conn, const std::string& db, const std::string& name) {
  client::ClientOptions opts = client_options(conn);
  opts.timeout_ms = std::max(opts.timeout_ms, 3600 * 1000);  // a large database takes a while
  client::Client c(conn.endpoint, opts);
  print_reply(c.command(client::Request("backup", db).arg_str("name", name)));
  return 0;
}

int run_migrate(const Connection& conn, const MigrateOptions& o) {
  Namespace src = parse_namespace(o.src);
  Namespace dst;
  auto dot = o.dst.find('.');
  dst.db = o.dst.substr(0, dot);
  dst.model = dot == std::string::npos ? src.model : o.dst.substr(dot + 1);
  if (dst.db.empty() || dst.model.empty())
    throw InputError("BadValue", "destination '" + o.dst + "' must be DB or DB.Model");
  client::Client c(conn.endpoint, client_options(conn));
  int64_t total = c.count(src.db, src.model);
  client::ClientOptions long_opts = client_options(conn);
  long_opts.timeout_ms = std::max(long_opts.timeout_ms, 24 * 3600 * 1000);
  client::Client mc(conn.endpoint, long_opts);
  client::Request req("migrate", src.db, src.model);
  req.arg_str("toDb", dst.db).arg_str("toModel", dst.model).arg_int("batchSize", o.batch);
  auto start = Clock::now();
  client::Reply reply;
  std::exception_ptr failure;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    try {
      reply = mc.command(std::move(req));
    } catch (...) {
      failure = std::current_exception();
    }
    done = true;
  });
  bool bar = isatty(2) != 0;
  while (!done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!bar || done) continue;
    try {
      draw(c.count(dst.db, dst.model), total);
    } catch (const client::Error&) {
      // the destination may not exist yet
    }
  }
  worker.join();
  if (bar) std::fprintf(stderr, failure ? "\r\033[K" : "\n");
  if (failure) std::rethrow_exception(failure);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "migrated %lld documents %s.%s -> %s.%s in %lld batches, %.2f s; verified: count "
      "%lld, checksum %s\n",
      static_cast<long long>(reply.get("migrated").as_int()), src.db.c_str(), src.model.c_str(),
      dst.db.c_str(), dst.model.c_str(), static_cast<long long>(reply.get("batches").as_int()),
      secs, static_cast<long long>(reply.get("destination").get("count").as_int()),
      std::string(reply.get("checksum").as_str()).c_str());
  return 0;
}

}  // namespace mg::cli
