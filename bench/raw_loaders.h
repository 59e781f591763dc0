// bench/raw_loaders.h — the storage baselines of issues 5 and 6: the bench itself writes the
// same documents straight into SQLite and into WiredTiger, the way memgoosed's backends store
// them, with no daemon, no socket and no in-memory collection in between. The daemon's
// insertMany ×1000 into that backend, measured in the same run, is reported as a ratio to it.
//
// Both loaders take batches of documents without `_id` (what a client sends), and inside the
// timed loop do what the daemon must also do per document: generate an ObjectId `_id` and put
// it first (shape.h with_id), encode as the backend encodes, and write one transaction per
// batch (the suites pass batches of 1000, the transaction size of issue 5 and 6).
//
//  - SQLite: `<dir>/Raw.db`, the sqlite backend's layout (storage/sqlite_storage.cc): table
//    documents(id TEXT PRIMARY KEY, data TEXT NOT NULL), id and data as Extended JSON text by
//    the backend's own encoder (core/ejson.h msgpack_to_ejson), the expression indexes of
//    bench_schema created before the load (UNIQUE ix_email_1, ix_status_1, ix_city_1_age_1 on
//    json_extract(data, '$.<field>')), the backend's pragmas (journal_mode=WAL,
//    synchronous=NORMAL, temp_store=MEMORY), one reused prepared INSERT, BEGIN IMMEDIATE ..
//    COMMIT per batch. It leaves out what only the daemon needs (the meta table's last_seq,
//    savepoints): it is the limit, not a copy.
//  - WiredTiger: `<dir>/Raw` is a WiredTiger home, table `Raw_docs`, key_format=u and
//    value_format=u, keys, values and the connection's configuration those of the wiredtiger
//    backend (RawWiredTigerOptions), one transaction per batch. It leaves out the backend's
//    memgoose_meta last_seq write per commit and its background log sync thread.
//
// Each throws std::runtime_error naming the call and the library's message on any error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mg::bench {

struct RawLoad {
  double docs_per_s = 0;     // documents / time from the first BEGIN to the last COMMIT
  double close_s = 0;        // closing afterwards (WiredTiger: its final checkpoint)
  uint64_t table_bytes = 0;  // Raw.db (+ -wal) / Raw_docs.wt after closing
};

RawLoad raw_sqlite_load(const std::string& dir,
                        const std::vector<std::vector<std::string>>& batches);

// The WiredTiger options: those of `createDatabase {storage: wiredtiger}` (defaults: cacheSize
// 500M, compressor snappy, journalSync false). The connection is opened with the backend's own
// configuration string for them (WiredTigerStorage::open_config: the log on, 16MB files,
// archived, not preallocated; a checkpoint every 60 s; each commit returns once its log record
// is written to the OS, or fsynced with journalSync), the table with block_compressor=<it>,
// and keys are the backend's (storage/wt_key.h wt_key_of the `_id`).
struct RawWiredTigerOptions {
  std::string cache_size = "500M";
  std::string compressor = "snappy";  // any of wt_compressors()
  bool sync_commits = false;          // journalSync
};

RawLoad raw_wiredtiger_load(const std::string& dir,
                            const std::vector<std::vector<std::string>>& batches,
                            const RawWiredTigerOptions& opts = {});

// The same load through the wiredtiger backend's own StorageStrategy (WiredTigerStorage over
// `<dir>/Strategy`, as a model's storage thread drives it: one apply_and_commit() of the batch's
// Insert changes per batch), in this process, without the daemon. Set beside the raw loader it
// tells what the backend's code costs (its change log for replays, the Insert cursor that
// refuses existing keys, last_seq in every commit) apart from the daemon's pipeline (socket,
// front door, in-memory collection and its indexes).
RawLoad strategy_wiredtiger_load(const std::string& dir,
                                 const std::vector<std::vector<std::string>>& batches,
                                 const RawWiredTigerOptions& opts = {});

}  // namespace mg::bench
