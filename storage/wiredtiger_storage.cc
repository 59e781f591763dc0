// storage/wiredtiger_storage.cc — the `wiredtiger` strategy (see wiredtiger_storage.h).
//
// ON DISK. <data-dir>/<db>/ holds memgoose.catalog.json (config and schemas, catalog.h),
// memgoose.lock (dir_lock.h) and one WiredTiger home per model:
//
//   <data-dir>/app/User/
//   ├── WiredTiger, WiredTiger.wt, WiredTiger.turtle   WiredTiger's own metadata
//   ├── WiredTiger.lock                                held while a process has the home open
//   ├── WiredTigerLAS.wt                               WiredTiger's cache overflow table
//   ├── User_docs.wt                                   table:User_docs, the documents
//   ├── memgoose_meta.wt                               table:memgoose_meta
//   ├── WiredTigerLog.0000000001                       the journal (write-ahead log)
//   └── memgoose.reconcile                             only while the write-back after a
//                                                      failed commit is not durable
//                                                      (storage/reconcile.h)
//
// table:<Model>_docs  key_format=u, value_format=u, block_compressor=<compressor>. Key: the
//   `_id` encoded by wt_key.h (type tag + order-preserving bytes: `S66a1f0c2...` for an
//   ObjectId string); value: the whole document, MessagePack, exactly as the engine holds it.
// table:memgoose_meta key_format=S, value_format=q: ("format", 1) this layout; ("last_seq", N)
//   the highest change-stream seq applied, written in the same transaction as the changes.
//
// CONFIGURATION (wiredtiger_open, built once per open by open_config()):
//   create, cache_size=<cacheSize in bytes>, config_base=false,
//   log=(enabled=true,archive=true,file_max=16MB,prealloc=false), checkpoint=(wait=60),
//   transaction_sync=(enabled=true,method=none|fsync),
//   extensions=[local={entry=memgoose_wt_extension_init}(,"<libdir>/libwiredtiger_snappy.so")]
// - config_base=false: no WiredTiger.basecfg, which would record `extensions=[local=...]` and
//   make the `wt` tool look for our entry point in itself; every open passes the full config.
// - log file_max 16MB and no preallocation: one home per model, and WiredTiger allocates a log
//   file in full when it creates it, so its default (100MB files, two more preallocated) would
//   cost ~300MB of disk per model; this costs 16MB per idle model. Log files older than the
//   last checkpoint are removed (archive).
// - checkpoint every 60 s (WiredTiger's checkpoint server) and at close (WT_CONNECTION::close).
//
// WHAT A COMMIT DOES IN 3.2.1 (src/txn/txn.c, src/log/log.c). commit_transaction writes the
// transaction's log record into an in-memory slot buffer shared by concurrent committers. What
// it then waits for is txn_logsync: with transaction_sync=(enabled=false) (the default) it
// waits for nothing — the record may sit in the process's buffer until the log server thread
// or another commit forces the slot out, so a SIGKILL can lose acknowledged commits. With
// enabled=true the method decides: `none` (WT_LOG_FLUSH) waits until the slot is written to
// the log file (write(2): in the OS, survives the process), `fsync` (WT_LOG_FSYNC) until it is
// fsynced, `dsync` opens the log O_DSYNC. commit_transaction("sync=off") overrides to nothing,
// "sync=on" keeps the connection's method. WT_SESSION::log_flush("sync=on") forces the slot
// out and fsyncs the log up to its end; "sync=off" only writes.
// Chosen: transaction_sync=(enabled=true,method=none) for journalSync false, plus a background
// thread per database (WtLogSyncer) that log_flush("sync=on")s every model committed to in the
// last 100 ms — acknowledged writes survive kill -9, a power cut loses at most ~100 ms, as
// MongoDB's journal; method=fsync for journalSync true — nothing acknowledged is lost. Commits
// pass no config string (no parsing per batch); each group commit is one transaction, so one
// log write (and one fsync) covers the whole batch.
#include "storage/wiredtiger_storage.h"

#include <fcntl.h>
#include <unistd.h>
#include <wiredtiger.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>

#include "core/ejson.h"
#include "storage/backup_files.h"
#include "storage/dir_lock.h"
#include "storage/wt_compressors.h"
#include "storage/wt_key.h"

namespace mg {

namespace {

constexpr int64_t kFormat = 1;
constexpr const char* kMetaUri = "table:memgoose_meta";
constexpr auto kLogSyncEvery = std::chrono::milliseconds(100);

WT_ITEM item(std::string_view bytes) {
  WT_ITEM it{};
  it.data = bytes.data();
  it.size = bytes.size();
  return it;
}

}  // namespace

// ---- the background log sync ----------------------------------------------------------------

// Every kLogSyncEvery, log_flush("sync=on") on each registered model that committed since the
// last round, each through a session of its own connection used only by this thread. remove()
// waits for a flush in progress, so a model can close its connection right after.
class WtLogSyncer {
 public:
  struct Entry {
    WT_SESSION* session;
    std::string home;
    std::atomic<bool> dirty{false};
    bool reported = false;
    Entry(WT_SESSION* s, std::string h) : session(s), home(std::move(h)) {}
  };

  WtLogSyncer() : thread_([this] { run(); }) {}
  ~WtLogSyncer() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void add(std::shared_ptr<Entry> e) {
    std::lock_guard<std::mutex> lk(mu_);
    entries_.push_back(std::move(e));
  }
  void remove(const Entry* e) {
    std::lock_guard<std::mutex> lk(mu_);
    std::erase_if(entries_, [&](const auto& x) { return x.get() == e; });
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!stop_) {
      cv_.wait_for(lk, kLogSyncEvery, [&] { return stop_; });
      for (auto& e : entries_) {
        if (!e->dirty.exchange(false)) continue;
        int ret = e->session->log_flush(e->session, "sync=on");
        if (ret != 0 && !e->reported) {
          e->reported = true;
          std::fprintf(stderr, "wiredtiger %s: background log sync failed: %s\n", e->home.c_str(),
                       wiredtiger_strerror(ret));
        }
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::thread thread_;  // last: starts after the members it uses
};

// ---- messages from WiredTiger ---------------------------------------------------------------

// WiredTiger's error and informational messages for one connection (its threads call in
// concurrently). The last error is kept for our StorageError; once the home is open they are
// also written to stderr (the daemon's log), since a background checkpoint has no caller.
struct WiredTigerStorage::Events {
  struct Handler {
    WT_EVENT_HANDLER h;
    Events* self;
  };
  explicit Events(std::string home) : home(std::move(home)) {
    handler.h.handle_error = on_error;
    handler.h.handle_message = on_message;
    handler.self = this;
  }
  std::string last() {
    std::lock_guard<std::mutex> lk(mu);
    return last_error;
  }
  // The first error since the last call: what a panic was about ("pwrite: ... No space left on
  // device"), where the last one only says "WT_PANIC".
  std::string take_first() {
    std::lock_guard<std::mutex> lk(mu);
    return std::exchange(first_error, std::string());
  }
  static int on_error(WT_EVENT_HANDLER* h, WT_SESSION*, int, const char* msg) {
    Events* e = reinterpret_cast<Handler*>(h)->self;
    std::lock_guard<std::mutex> lk(e->mu);
    e->last_error = msg;
    if (e->first_error.empty()) e->first_error = msg;
    if (!e->quiet) std::fprintf(stderr, "wiredtiger %s: %s\n", e->home.c_str(), msg);
    return 0;
  }
  static int on_message(WT_EVENT_HANDLER* h, WT_SESSION*, const char* msg) {
    Events* e = reinterpret_cast<Handler*>(h)->self;
    std::fprintf(stderr, "wiredtiger %s: %s\n", e->home.c_str(), msg);
    return 0;
  }

  Handler handler{};
  std::string home;
  std::mutex mu;
  std::string last_error, first_error;
  std::atomic<bool> quiet{true};
  std::shared_ptr<WtLogSyncer::Entry> sync_entry;
};

// ---- the strategy ---------------------------------------------------------------------------

WiredTigerStorage::WiredTigerStorage(std::string home, std::string table, WtOptions opts,
                                     std::shared_ptr<WtLogSyncer> syncer, std::string path)
    : home_(std::move(home)),
      path_(path.empty() ? home_ : std::move(path)),
      table_uri_("table:" + table),
      opts_(std::move(opts)),
      syncer_(std::move(syncer)),
      reconciler_(path_ + "/memgoose.reconcile", "wiredtiger " + home_,
                  [this](std::span<const Change> changes, uint64_t seq) {
                    return write_back(changes, seq);
                  }) {}

WiredTigerStorage::~WiredTigerStorage() {
  close();
}

std::string WiredTigerStorage::open_config(const WtOptions& opts, uint64_t cache_bytes) {
  return "create,cache_size=" + std::to_string(cache_bytes) +
         ",config_base=false,log=(enabled=true,archive=true,file_max=16MB,prealloc=false),"
         "checkpoint=(wait=60),transaction_sync=(enabled=true,method=" +
         (opts.journal_sync ? "fsync" : "none") + "),extensions=[" +
         wt_extensions_config(opts.compressor) + "]";
}

Status WiredTigerStorage::error(const std::string& what, int ret) const {
  std::string first = events_ ? events_->take_first() : std::string();
  std::string detail = ret == WT_PANIC ? first : events_ ? events_->last() : std::string();
  return make_status(
      ErrorCode::StorageError,
      "wiredtiger " + home_ + ": " + what + ": " + wiredtiger_strerror(ret) +
          (detail.empty() ? std::string() : " (" + detail + ")") +
          (ret == WT_PANIC ? "; the connection is reopened before the next write" : ""));
}

Status WiredTigerStorage::open(const std::function<Status(std::string_view doc)>& sink) {
  auto cache = parse_wt_cache_size(opts_.cache_size);
  if (!cache.ok()) return cache.status();
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec)
    return make_status(ErrorCode::StorageError,
                       "wiredtiger: cannot create " + home_ + ": " + ec.message());
  events_ = std::make_unique<Events>(home_);
  Status s = connect(cache.value());
  if (s.ok()) s = reconciler_.recover();
  if (s.ok()) s = guard([&] { return load(sink); });
  if (s.ok()) s = start_log_sync();
  if (!s.ok()) {
    close_connection();
    return s;
  }
  events_->quiet = false;
  return Status::OK();
}

// wiredtiger_open (which runs recovery), then open_tables().
Status WiredTigerStorage::connect(uint64_t cache_bytes) {
  std::string config = open_config(opts_, cache_bytes);
  int ret = wiredtiger_open(path_.c_str(), &events_->handler.h, config.c_str(), &conn_);
  if (ret != 0) {
    conn_ = nullptr;
    std::string detail = events_->last();
    if (ret == EBUSY)
      return make_status(
          ErrorCode::StorageError,
          "wiredtiger " + home_ + " is in use by another " +
              (detail.find("in this process") != std::string::npos ? "connection in this process: "
                                                                   : "process: ") +
              wiredtiger_strerror(ret) + " (" + detail + ")");
    return error("cannot open", ret);
  }
  return open_tables();
}

// Registers the home with the background log sync (journalSync false).
Status WiredTigerStorage::start_log_sync() {
  if (!syncer_) return Status::OK();
  WT_SESSION* bg = nullptr;
  int ret = conn_->open_session(conn_, nullptr, nullptr, &bg);
  if (ret != 0) return error("cannot open a session", ret);
  events_->sync_entry = std::make_shared<WtLogSyncer::Entry>(bg, home_);
  syncer_->add(events_->sync_entry);
  return Status::OK();
}

// WiredTiger 3.2.1 panics (WT_PANIC, e.g. "fatal log failure" when a log write hits ENOSPC or
// EIO) and the whole connection is unusable from then on: it is closed and opened again, which
// recovers the home to its last commit. Memory already holds exactly that (the caller rolled
// the failed group back), so nothing is loaded. Called by apply() outside a transaction; while
// it fails (the disk still full), writes get its StorageError and the next apply() tries again.
Status WiredTigerStorage::reopen() {
  uint64_t committed = log_.committed_seq();
  events_->quiet = true;  // the panicked connection's complaints while it closes
  close_connection();
  auto cache = parse_wt_cache_size(opts_.cache_size);
  Status s = cache.ok() ? connect(cache.value()) : cache.status();
  if (s.ok()) s = start_log_sync();
  if (!s.ok()) {
    close_connection();
    log_.reset_seq(committed);
    return make_status(ErrorCode::StorageError,
                       "wiredtiger " + home_ +
                           ": the connection failed and cannot be reopened yet, so writes are "
                           "refused (reads go on): " +
                           s.message);
  }
  events_->quiet = false;
  reopen_ = false;
  if (log_.committed_seq() != committed)
    std::fprintf(stderr,
                 "wiredtiger %s: after reopening, the stored last seq is %llu where memory has "
                 "%llu: a failed commit reached the log (it is written back, reconcile.h)\n",
                 home_.c_str(), (unsigned long long)log_.committed_seq(),
                 (unsigned long long)committed);
  std::fprintf(stderr, "wiredtiger %s: connection reopened after a failure\n", home_.c_str());
  return Status::OK();
}

// Creates the tables when absent, opens the cursors apply() and commit() reuse, and checks
// the format.
Status WiredTigerStorage::open_tables() {
  int ret = conn_->open_session(conn_, nullptr, "isolation=snapshot", &session_);
  if (ret != 0) return error("cannot open a session", ret);
  std::string docs_config = "key_format=u,value_format=u,block_compressor=" + opts_.compressor;
  if ((ret = session_->create(session_, kMetaUri, "key_format=S,value_format=q")) != 0)
    return error("cannot create memgoose_meta", ret);
  if ((ret = session_->create(session_, table_uri_.c_str(), docs_config.c_str())) != 0)
    return error("cannot create " + table_uri_, ret);
  // Make the tables' creation durable before any write, so that a home the catalog lists
  // (the model is added to it only after this open) always opens: WiredTiger 3.2.1's create is
  // not atomic, and a kill -9 inside it leaves a table without its column group ("cannot be
  // used until all column groups are created"). A home killed that early belongs to a model
  // the catalog does not list, and is emptied before it opens again (actors/registry.cc
  // emptied_storage). Cheap: on a reopen nothing is dirty, and after a crash recovery has just
  // checkpointed.
  if ((ret = session_->checkpoint(session_, nullptr)) != 0)
    return error("cannot checkpoint the new tables", ret);
  const std::tuple<WT_CURSOR**, const char*, const char*> cursors[] = {
      {&insert_, table_uri_.c_str(), "overwrite=false"},
      {&write_, table_uri_.c_str(), nullptr},
      {&meta_, kMetaUri, nullptr},
  };
  for (auto& [c, uri, cfg] : cursors)
    if ((ret = session_->open_cursor(session_, uri, nullptr, cfg, c)) != 0)
      return error(std::string("cannot open a cursor on ") + uri, ret);
  meta_->set_key(meta_, "format");
  ret = meta_->search(meta_);
  int64_t v = 0;
  if (ret == WT_NOTFOUND) {
    meta_->set_key(meta_, "format");
    meta_->set_value(meta_, kFormat);
    ret = meta_->insert(meta_);
  } else if (ret == 0 && (ret = meta_->get_value(meta_, &v)) == 0 && v != kFormat) {
    return make_status(ErrorCode::StorageError, "wiredtiger " + home_ + ": format " +
                                                    std::to_string(v) + " is not supported");
  }
  if (ret != 0) return error("cannot read memgoose_meta", ret);
  meta_->set_key(meta_, "last_seq");
  ret = meta_->search(meta_);
  if (ret == 0 && (ret = meta_->get_value(meta_, &v)) == 0) log_.reset_seq(uint64_t(v));
  meta_->reset(meta_);
  return ret == 0 || ret == WT_NOTFOUND ? Status::OK() : error("cannot read last_seq", ret);
}

// Streams every document, in key order, to `sink`.
Status WiredTigerStorage::load(const std::function<Status(std::string_view doc)>& sink) {
  WT_CURSOR* c = nullptr;
  int ret = session_->open_cursor(session_, table_uri_.c_str(), nullptr, "readonly=true", &c);
  if (ret != 0) return error("cannot read " + table_uri_, ret);
  Status s;
  WT_ITEM value{};
  while (s.ok() && (ret = c->next(c)) == 0) {
    if ((ret = c->get_value(c, &value)) != 0) break;
    s = sink(std::string_view(static_cast<const char*>(value.data), value.size));
  }
  c->close(c);
  if (s.ok() && ret != WT_NOTFOUND) s = error("cannot read " + table_uri_, ret);
  return s;
}

Status WiredTigerStorage::begin_if_needed() {
  if (in_txn_) return Status::OK();
  int ret = session_->begin_transaction(session_, nullptr);
  if (ret != 0) return error("cannot begin a transaction", ret);
  in_txn_ = true;
  return Status::OK();
}

// Logs `ch` (its key and document copied into the group log) and executes it in the open
// transaction; 0 or WiredTiger's error.
int WiredTigerStorage::put(const Change& ch) {
  log_.add(
      ch, [&](std::string& out) { wt_key_of(MpView(ch.id), out); },
      [&](std::string& out) { out += ch.doc; });
  return apply_logged(log_.entries().size() - 1);
}

// Runs log_[from..] against the tables; 0 or the first WiredTiger error.
int WiredTigerStorage::apply_logged(size_t from) {
  for (size_t i = from; i < log_.entries().size(); ++i) {
    const GroupLog::Entry& e = log_.entries()[i];
    WT_ITEM key = item(log_.key(e)), doc = item(log_.doc(e));
    if (int ret = execute(e.op, key, doc); ret != 0) return ret;
  }
  return 0;
}

// One change against the tables, in the open transaction; 0 or WiredTiger's error. WiredTiger
// copies the key and the document (into its update and its log record) before it returns.
int WiredTigerStorage::execute(Change::Op op, WT_ITEM& key, WT_ITEM& doc) {
  int ret = 0;
  switch (op) {
    case Change::Op::Insert:
      insert_->set_key(insert_, &key);
      insert_->set_value(insert_, &doc);
      return insert_->insert(insert_);
    case Change::Op::Replace:
      write_->set_key(write_, &key);
      write_->set_value(write_, &doc);
      return write_->insert(write_);
    case Change::Op::Delete:
      write_->set_key(write_, &key);
      ret = write_->remove(write_);
      return ret == WT_NOTFOUND ? 0 : ret;
    case Change::Op::Clear: {
      WT_CURSOR *first = nullptr, *last = nullptr;
      ret = session_->open_cursor(session_, table_uri_.c_str(), nullptr, nullptr, &first);
      if (ret == 0)
        ret = session_->open_cursor(session_, table_uri_.c_str(), nullptr, nullptr, &last);
      if (ret == 0 && (ret = first->next(first)) == 0 && (ret = last->prev(last)) == 0)
        ret = session_->truncate(session_, nullptr, first, last, nullptr);
      if (ret == WT_NOTFOUND) ret = 0;  // already empty
      if (first) first->close(first);
      if (last) last->close(last);
      return ret;
    }
  }
  return 0;
}

// What apply() checks first: a pending reconcile, a panicked connection to reopen, a lost group.
Status WiredTigerStorage::ready() {
  if (Status r = reconciler_.retry(); !r.ok()) return r;
  if (reopen_ && !in_txn_ && log_.lost().ok()) {
    Status r = reopen();
    if (!r.ok()) return r;
  }
  if (!session_) return make_status(ErrorCode::StorageError, "wiredtiger " + home_ + ": not open");
  return log_.lost();
}

// The error of `ch` refused by WiredTiger with `ret`: DuplicateKey (with keyPattern and
// keyValue) for an existing key, else StorageError naming the _id. Notes a panic for reopen.
Status WiredTigerStorage::refused(const Change& ch, int ret) {
  if (ret == WT_PANIC) reopen_ = true;
  if (ret == WT_DUPLICATE_KEY) {
    Status s = make_status(ErrorCode::DuplicateKey,
                           "E11000 duplicate key error in " + home_ +
                               ": unique index _id_ dup key: " + "{_id: " + json_from_mp(ch.id) +
                               "} (refused by WiredTiger)");
    MpWriter kp(s.key_pattern);
    kp.map_header(1), kp.str("_id"), kp.integer(1);
    MpWriter kv(s.key_value);
    kv.map_header(1), kv.str("_id"), kv.raw(MpView(ch.id));
    return s;
  }
  return error(ch.op == Change::Op::Clear
                   ? std::string("cannot delete all documents")
                   : "cannot write the document with _id " + json_from_mp(ch.id),
               ret);
}

Status WiredTigerStorage::apply(std::span<const Change> changes) {
  if (Status r = ready(); !r.ok()) return r;
  if (changes.empty()) return Status::OK();
  Status s = begin_if_needed();
  if (!s.ok()) return s;
  GroupLog::Mark mark = log_.mark();
  for (const Change& ch : changes)
    if (int ret = put(ch); ret != 0) return undo(refused(ch, ret), mark);
  log_.applied(changes.back().seq);
  return Status::OK();
}

// The pipelined storage thread's whole group (storage_strategy.h): nothing else joins the
// transaction, so a refused change rolls back only this group and nothing needs replaying:
// the changes go to WiredTiger straight from the caller's bytes, without the group log's copy
// (only the keys are encoded, into one reused buffer). With earlier apply() calls still
// uncommitted, the general path keeps them replayable.
Status WiredTigerStorage::apply_and_commit(std::span<const Change> changes) {
  if (in_txn_) return StorageStrategy::apply_and_commit(changes);
  if (Status r = ready(); !r.ok()) return r;
  if (changes.empty()) return Status::OK();
  Status s = begin_if_needed();
  if (!s.ok()) return s;
  for (const Change& ch : changes) {
    key_.clear();
    if (ch.op != Change::Op::Clear) wt_key_of(MpView(ch.id), key_);
    WT_ITEM key = item(key_), doc = item(ch.doc);
    if (int ret = execute(ch.op, key, doc); ret != 0) {
      s = refused(ch, ret);
      session_->rollback_transaction(session_, nullptr);
      in_txn_ = false;
      log_.end(false);
      return s;
    }
  }
  log_.applied(changes.back().seq);
  return commit();
}

// After a failed apply(): WiredTiger has no savepoints, so the transaction is rolled back and
// the calls before the failing one are replayed into a new one. If that fails too they are
// lost: every later apply() fails until commit() reports it (the caller rolls the group back).
Status WiredTigerStorage::undo(Status why, GroupLog::Mark mark) {
  session_->rollback_transaction(session_, nullptr);
  in_txn_ = false;
  log_.cut(mark);
  if (log_.empty()) return why;
  Status s = begin_if_needed();
  int ret = s.ok() ? apply_logged(0) : 0;
  if (ret != 0) s = error("replaying the transaction", ret);
  if (s.ok()) return why;
  if (in_txn_) session_->rollback_transaction(session_, nullptr);
  in_txn_ = false;
  log_.lose("wiredtiger " + home_ + ": the transaction was rolled back (" + why.message +
            ") and replaying it failed (" + s.message + ")");
  return why;
}

Status WiredTigerStorage::commit() {
  // A lost group: the caller rolls it back, later groups go on.
  if (Status lost = log_.take_lost(); !lost.ok()) return lost;
  if (!in_txn_) return Status::OK();
  int ret = 0;
  if (log_.last_seq() != log_.committed_seq()) {
    meta_->set_key(meta_, "last_seq");
    meta_->set_value(meta_, int64_t(log_.last_seq()));
    ret = meta_->insert(meta_);
  }
  Status s;
  if (ret != 0) {
    s = error("cannot write last_seq", ret);
    session_->rollback_transaction(session_, nullptr);
  } else if ((ret = session_->commit_transaction(session_, nullptr)) != 0) {
    s = error("commit failed", ret);  // WiredTiger rolled it back
  }
  if (ret == WT_PANIC) reopen_ = true;
  in_txn_ = false;
  log_.end(s.ok());
  if (!s.ok()) return s;
  ++commits_;
  if (events_->sync_entry) events_->sync_entry->dirty.store(true, std::memory_order_relaxed);
  return s;
}

// One transaction: the changes and last_seq, committed, then the log synced whatever
// journalSync says. A panicked connection is reopened first: its recovery may replay the
// failed commit, which this transaction then overrides.
Status WiredTigerStorage::write_back(std::span<const Change> changes, uint64_t seq) {
  if (reopen_) {
    Status r = reopen();
    if (!r.ok()) return r;
  }
  if (!session_) return make_status(ErrorCode::StorageError, "wiredtiger " + home_ + ": not open");
  Status s = begin_if_needed();
  int ret = 0;
  for (size_t i = 0; s.ok() && i < changes.size(); ++i)
    if ((ret = put(changes[i])) != 0)
      s = error("cannot write back the document with _id " + json_from_mp(changes[i].id), ret);
  if (s.ok()) {
    meta_->set_key(meta_, "last_seq");
    meta_->set_value(meta_, int64_t(seq));
    if ((ret = meta_->insert(meta_)) != 0) s = error("cannot write last_seq", ret);
  }
  if (s.ok()) {
    if ((ret = session_->commit_transaction(session_, nullptr)) != 0)
      s = error("commit failed", ret);  // WiredTiger rolled it back
  } else if (in_txn_) {
    session_->rollback_transaction(session_, nullptr);
  }
  in_txn_ = false;
  log_.end(false);
  if (s.ok() && (ret = session_->log_flush(session_, "sync=on")) != 0)
    s = error("log flush failed", ret);
  if (ret == WT_PANIC) reopen_ = true;
  if (!s.ok()) return s;
  log_.reset_seq(seq);
  return Status::OK();
}

Status WiredTigerStorage::reconcile(std::span<const Change> changes, uint64_t seq) {
  if (!conn_ && !reopen_)
    return make_status(ErrorCode::StorageError, "wiredtiger " + home_ + ": not open");
  return reconciler_.reconcile(changes, seq);
}

Status WiredTigerStorage::flush() {
  if (Status r = reconciler_.retry(); !r.ok()) return r;
  if (!session_) return Status::OK();
  Status s = commit();
  if (!s.ok()) return s;
  int ret = session_->log_flush(session_, "sync=on");
  return ret == 0 ? Status::OK() : error("log flush failed", ret);
}

// Online backup: commit and flush the log, then copy the files a backup cursor lists (the
// last checkpoint's files and the log after it: WiredTiger recovers the copy to this moment).
// Log archiving is paused while the cursor is open.
Result<bool> WiredTigerStorage::backup(const std::string& dir) {
  if (!session_) return make_status(ErrorCode::StorageError, "wiredtiger " + home_ + ": not open");
  Status s = flush();
  if (!s.ok()) return s;
  std::string to = dir + "/" + std::filesystem::path(home_).filename().string();
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  if (ec) return make_status(ErrorCode::StorageError, "cannot create " + to + ": " + ec.message());
  WT_CURSOR* c = nullptr;
  int ret = session_->open_cursor(session_, "backup:", nullptr, nullptr, &c);
  if (ret != 0) return error("cannot open a backup cursor", ret);
  while (s.ok() && (ret = c->next(c)) == 0) {
    const char* name = nullptr;
    if ((ret = c->get_key(c, &name)) != 0) break;
    s = copy_file_synced(path_ + "/" + name, to + "/" + name);
  }
  if (s.ok() && ret != WT_NOTFOUND) s = error("backup cursor failed", ret);
  c->close(c);
  if (s.ok()) s = sync_directory(to);
  if (!s.ok()) return s;
  return true;
}

void WiredTigerStorage::close() {
  if (!conn_) return;
  if (log_.lost().ok() && session_) {
    Status s = commit();
    if (!s.ok()) std::fprintf(stderr, "%s\n", s.message.c_str());
  }
  close_connection();
}

// Stops the background sync of this home and closes the connection, which rolls back an open
// transaction and writes a final checkpoint.
void WiredTigerStorage::close_connection() {
  if (syncer_ && events_ && events_->sync_entry) {
    syncer_->remove(events_->sync_entry.get());
    events_->sync_entry.reset();
  }
  if (conn_) {
    int ret = conn_->close(conn_, nullptr);
    if (ret != 0 && !(events_ && events_->quiet))
      std::fprintf(stderr, "wiredtiger %s: close failed: %s\n", home_.c_str(),
                   wiredtiger_strerror(ret));
  }
  conn_ = nullptr;
  session_ = nullptr;
  insert_ = write_ = meta_ = nullptr;
  in_txn_ = false;
}

Status WiredTigerStorage::destroy() {
  // Closes first (dropDatabase moves the directory only after every model has): a connection
  // whose home vanished under its final checkpoint panicked and was never freed.
  close();
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec)
    return make_status(ErrorCode::StorageError,
                       "wiredtiger: cannot remove " + home_ + ": " + ec.message());
  return Status::OK();
}

StorageStats WiredTigerStorage::stats() const {
  StorageStats s;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(path_, ec)) {
    std::error_code fec;
    auto n = e.is_regular_file(fec) ? e.file_size(fec) : 0;
    if (!fec) s.bytes_on_disk += n;
  }
  s.pending_bytes = log_.bytes();
  s.commits = commits_;
  return s;
}

// ---- the `wiredtiger` kind ------------------------------------------------------------------

Result<uint64_t> parse_wt_cache_size(std::string_view text) {
  auto bad = [&] {
    return make_status(ErrorCode::InvalidOptions,
                       "wiredtiger option 'cacheSize' must be a size such as \"500M\" or \"1G\" "
                       "(a whole number with a unit K, M, G or T, from 1M to 10T), got \"" +
                           std::string(text.substr(0, 40)) + "\"");
  };
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(uint8_t(text[i]))) {
    if (n > (uint64_t(1) << 40)) return bad();
    n = n * 10 + uint64_t(text[i++] - '0');
  }
  if (i == 0 || i == text.size()) return bad();
  int shift = 0;
  switch (std::toupper(uint8_t(text[i++]))) {
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    case 'T':
      shift = 40;
      break;
    default:
      return bad();
  }
  if (i < text.size() && std::toupper(uint8_t(text[i])) == 'B') ++i;
  if (i != text.size() || n > (uint64_t(10) << 40 >> shift)) return bad();
  uint64_t bytes = n << shift;
  if (bytes < (uint64_t(1) << 20)) return bad();
  return bytes;
}

namespace {

// The engine of one database: its directory lock, options and background log sync, and the
// directory itself, held open: models open their homes through it (/proc/self/fd/<fd>/<Model>).
// WiredTiger refuses a second connection to a home *name* already open in the process, and
// after dropDatabase moved the directory aside the old models may still be closing under the
// old name while a new database of that name opens its models; through the descriptor each
// engine's homes have names of their own, and the old ones finish in the moved directory.
class WtEngine final : public StorageEngine {
 public:
  WtEngine(std::string dir, int dir_fd, WtOptions opts, std::unique_ptr<DirLock> lock)
      : dir_(std::move(dir)),
        dir_fd_(dir_fd),
        opts_(std::move(opts)),
        lock_(std::move(lock)),
        syncer_(opts_.journal_sync ? nullptr : std::make_shared<WtLogSyncer>()) {}
  ~WtEngine() override { ::close(dir_fd_); }
  std::unique_ptr<StorageStrategy> make_model(const std::string& name) override {
    return std::make_unique<WiredTigerStorage>(
        dir_ + "/" + name, name + "_docs", opts_, syncer_,
        "/proc/self/fd/" + std::to_string(dir_fd_) + "/" + name);
  }

 private:
  const std::string dir_;
  const int dir_fd_;
  const WtOptions opts_;
  std::unique_ptr<DirLock> lock_;
  std::shared_ptr<WtLogSyncer> syncer_;
};

Result<WtOptions> parse_wt_options(MpView options) {
  WtOptions o;
  Status s = for_each_option(
      options, "wiredtiger", {"cacheSize", "compressor", "journalSync"},
      [&](std::string_view key, MpView v) {
        if (key == "cacheSize") {
          if (v.type() != MpType::Str)
            fail(ErrorCode::InvalidOptions,
                 "wiredtiger option 'cacheSize' must be a string such as \"500M\" or \"1G\"");
          auto bytes = parse_wt_cache_size(v.as_str());
          if (!bytes.ok()) fail(bytes.status());
          std::string norm(v.as_str());
          while (std::toupper(uint8_t(norm.back())) == 'B') norm.pop_back();
          norm.back() = char(std::toupper(uint8_t(norm.back())));
          o.cache_size = norm;
        } else if (key == "compressor") {
          const auto& all = wt_compressors();
          bool ok =
              v.type() == MpType::Str && std::find(all.begin(), all.end(), v.as_str()) != all.end();
          if (!ok) {
            std::string list;
            for (auto& c : all) list += (list.empty() ? "" : ", ") + c;
            fail(ErrorCode::InvalidOptions, "wiredtiger option 'compressor' must be one of " +
                                                list + " (got " + json_from_mp(v.bytes()) + ")");
          }
          o.compressor = v.as_str();
        } else {
          if (v.type() != MpType::Bool)
            fail(ErrorCode::InvalidOptions,
                 "wiredtiger option 'journalSync' must be true or false (got " +
                     json_from_mp(v.bytes()) + ")");
          o.journal_sync = v.as_bool();
        }
      });
  if (!s.ok()) return s;
  const auto& all = wt_compressors();
  if (std::find(all.begin(), all.end(), o.compressor) == all.end())
    return make_status(ErrorCode::InvalidOptions,
                       "wiredtiger compressor '" + o.compressor +
                           "' is not available: its WiredTiger extension does not load");
  return o;
}

}  // namespace

StorageKind wiredtiger_storage_kind() {
  StorageKind k;
  k.name = "wiredtiger";
  k.persistent = true;
  k.compressors = wt_compressors();
  k.normalize = [](MpView options) -> Result<std::string> {
    auto o = parse_wt_options(options);
    if (!o.ok()) return o.status();
    std::string out;
    MpWriter w(out);
    w.map_header(3);
    w.str("cacheSize"), w.str(o->cache_size);
    w.str("compressor"), w.str(o->compressor);
    w.str("journalSync"), w.boolean(o->journal_sync);
    return out;
  };
  k.open = [](const std::string& dir, MpView options) -> Result<std::shared_ptr<StorageEngine>> {
    auto o = parse_wt_options(options);
    if (!o.ok()) return o.status();
    auto lock = DirLock::acquire(dir);
    if (!lock.ok()) return lock.status();
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return make_status(ErrorCode::StorageError,
                         "wiredtiger: cannot open " + dir + ": " + std::strerror(errno));
    return std::shared_ptr<StorageEngine>(
        std::make_shared<WtEngine>(dir, fd, o.value(), std::move(lock.value())));
  };
  return k;
}

}  // namespace mg
