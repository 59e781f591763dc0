// bench/raw_wiredtiger.cc — the raw WiredTiger loader (see raw_loaders.h).
#include <wiredtiger.h>

#include <filesystem>
#include <stdexcept>

#include "bench/raw_loaders.h"
#include "bench/shape.h"
#include "bench/stats.h"
#include "core/objectid.h"
#include "storage/wiredtiger_storage.h"
#include "storage/wt_key.h"

namespace mg::bench {

namespace {

void check(int rc, const std::string& what) {
  if (rc != 0) throw std::runtime_error("raw wiredtiger: " + what + ": " + wiredtiger_strerror(rc));
}

// Closes the connection (and so checkpoints) when the load throws.
struct Conn {
  WT_CONNECTION* c = nullptr;
  ~Conn() {
    if (c) c->close(c, nullptr);
  }
};

// The end of a load started at `t0` that wrote `docs` documents: its rate, how long `close`
// (the final checkpoint) takes, and the size of the table file it leaves.
template <class Close>
RawLoad finish_load(uint64_t docs, double t0, const std::string& table_file, Close&& close) {
  RawLoad out;
  out.docs_per_s = double(docs) / (now_s() - t0);
  double t1 = now_s();
  close();
  out.close_s = now_s() - t1;
  std::error_code ec;
  auto n = std::filesystem::file_size(table_file, ec);
  out.table_bytes = ec ? 0 : uint64_t(n);
  return out;
}

}  // namespace

RawLoad raw_wiredtiger_load(const std::string& dir,
                            const std::vector<std::vector<std::string>>& batches,
                            const RawWiredTigerOptions& opts) {
  std::string home = dir + "/Raw";
  std::filesystem::create_directories(home);
  auto cache = parse_wt_cache_size(opts.cache_size);
  if (!cache.ok()) throw std::runtime_error("raw wiredtiger: " + cache.status().message);
  WtOptions wt{opts.cache_size, opts.compressor, opts.sync_commits};
  Conn conn;
  check(wiredtiger_open(home.c_str(), nullptr, WiredTigerStorage::open_config(wt, *cache).c_str(),
                        &conn.c),
        "wiredtiger_open " + home);
  WT_SESSION* s = nullptr;
  check(conn.c->open_session(conn.c, nullptr, nullptr, &s), "open_session");
  std::string table_cfg = "key_format=u,value_format=u,block_compressor=" + opts.compressor;
  check(s->create(s, "table:Raw_docs", table_cfg.c_str()), "create table:Raw_docs");
  WT_CURSOR* cur = nullptr;
  check(s->open_cursor(s, "table:Raw_docs", nullptr, nullptr, &cur), "open_cursor");

  uint64_t docs = 0;
  std::string id, key;
  double t0 = now_s();
  for (auto& batch : batches) {
    check(s->begin_transaction(s, nullptr), "begin_transaction");
    for (auto& doc : batch) {
      id.clear(), key.clear();
      MpWriter(id).str(new_object_id());
      wt_key_of(MpView(id), key);
      std::string value = with_id(doc, MpView(id).as_str());
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
  return finish_load(docs, t0, home + "/Raw_docs.wt", [&conn] {
    WT_CONNECTION* c = conn.c;
    conn.c = nullptr;
    check(c->close(c, nullptr), "close");
  });
}

RawLoad strategy_wiredtiger_load(const std::string& dir,
                                 const std::vector<std::vector<std::string>>& batches,
                                 const RawWiredTigerOptions& opts) {
  WiredTigerStorage st(dir + "/Strategy", "Strategy_docs",
                       WtOptions{opts.cache_size, opts.compressor, opts.sync_commits});
  Status s = st.open([](std::string_view) { return Status::OK(); });
  if (!s.ok()) throw std::runtime_error("wiredtiger strategy: " + s.message);
  uint64_t docs = 0, seq = 0;
  std::vector<std::string> ids, values;
  std::vector<Change> changes;
  double t0 = now_s();
  for (auto& batch : batches) {
    ids.resize(batch.size()), values.resize(batch.size()), changes.resize(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      ids[i].clear();
      MpWriter(ids[i]).str(new_object_id());
      values[i] = with_id(batch[i], MpView(ids[i]).as_str());
      changes[i] = Change{Change::Op::Insert, ids[i], values[i], ++seq};
    }
    s = st.apply_and_commit(changes);
    if (!s.ok()) throw std::runtime_error("wiredtiger strategy: " + s.message);
    docs += batch.size();
  }
  return finish_load(docs, t0, dir + "/Strategy/Strategy_docs.wt", [&st] { st.close(); });
}

}  // namespace mg::bench
