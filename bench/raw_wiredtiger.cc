// bench/raw_wiredtiger.cc — the raw WiredTiger loader (see raw_loaders.h). Compiled against
// wiredtiger.h when CMake found libwiredtiger (MG_BENCH_WIREDTIGER), a stub otherwise.
#include <filesystem>
#include <stdexcept>

#include "bench/raw_loaders.h"

#ifdef MG_BENCH_WIREDTIGER
#include <wiredtiger.h>

#include "bench/shape.h"
#include "bench/stats.h"
#include "core/objectid.h"
#endif

namespace mg::bench {

#ifndef MG_BENCH_WIREDTIGER

bool raw_wiredtiger_available() {
  return false;
}

RawLoad raw_wiredtiger_load(const std::string&, const std::vector<std::vector<std::string>>&,
                            const RawWiredTigerOptions&) {
  throw std::runtime_error("built without libwiredtiger-dev (wiredtiger.h not found by CMake)");
}

#else

namespace {

constexpr const char* kExtensionDir = "/usr/lib/x86_64-linux-gnu/";

void check(int rc, const std::string& what) {
  if (rc != 0) throw std::runtime_error("raw wiredtiger: " + what + ": " + wiredtiger_strerror(rc));
}

std::string connection_config(const RawWiredTigerOptions& o) {
  std::string cfg = "create,cache_size=" + o.cache_size + ",config_base=false,log=(" + o.log +
                    "),checkpoint=(wait=60),transaction_sync=(enabled=true,method=" +
                    (o.sync_commits ? "fsync" : "none") + ")";
  if (o.compressor == "snappy" || o.compressor == "zlib")
    cfg += std::string(",extensions=[") + kExtensionDir + "libwiredtiger_" + o.compressor + ".so]";
  else if (o.compressor != "none")
    throw std::runtime_error("raw wiredtiger: compressor " + o.compressor +
                             " is not one of Debian's extensions (snappy, zlib) or none");
  return cfg;
}

// Closes the connection (and so checkpoints) when the load throws.
struct Conn {
  WT_CONNECTION* c = nullptr;
  ~Conn() {
    if (c) c->close(c, nullptr);
  }
};

}  // namespace

bool raw_wiredtiger_available() {
  return true;
}

RawLoad raw_wiredtiger_load(const std::string& dir,
                            const std::vector<std::vector<std::string>>& batches,
                            const RawWiredTigerOptions& opts) {
  std::string home = dir + "/Raw";
  std::filesystem::create_directories(home);
  Conn conn;
  check(wiredtiger_open(home.c_str(), nullptr, connection_config(opts).c_str(), &conn.c),
        "wiredtiger_open " + home);
  WT_SESSION* s = nullptr;
  check(conn.c->open_session(conn.c, nullptr, nullptr, &s), "open_session");
  std::string table_cfg = "key_format=u,value_format=u,block_compressor=" +
                          (opts.compressor == "none" ? std::string() : opts.compressor);
  check(s->create(s, "table:Raw_docs", table_cfg.c_str()), "create table:Raw_docs");
  WT_CURSOR* cur = nullptr;
  check(s->open_cursor(s, "table:Raw_docs", nullptr, nullptr, &cur), "open_cursor");

  uint64_t docs = 0;
  std::string id, key;
  double t0 = now_s();
  for (auto& batch : batches) {
    check(s->begin_transaction(s, nullptr), "begin_transaction");
    for (auto& doc : batch) {
      id = new_object_id();
      key.assign(1, 'S').append(id);  // wt_key.h: a string _id is 'S' + its bytes
      std::string value = with_id(doc, id);
      WT_ITEM k{}, v{};
      k.data = key.data(), k.size = key.size();
      v.data = value.data(), v.size = value.size();
      cur->set_key(cur, &k);
      cur->set_value(cur, &v);
      check(cur->insert(cur), "insert");
    }
    check(s->commit_transaction(s, nullptr), "commit_transaction");
    docs += batch.size();
  }
  RawLoad out;
  out.docs_per_s = double(docs) / (now_s() - t0);
  double t1 = now_s();
  WT_CONNECTION* c = conn.c;
  conn.c = nullptr;
  check(c->close(c, nullptr), "close");
  out.close_s = now_s() - t1;
  std::error_code ec;
  auto n = std::filesystem::file_size(home + "/Raw_docs.wt", ec);
  out.table_bytes = ec ? 0 : uint64_t(n);
  return out;
}

#endif

}  // namespace mg::bench
