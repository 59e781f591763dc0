// actors/model_actor.cc — see model_actor.h. The behavior below reads like CONTRACT.md §5:
// document ops go to model_ops; defineModel and dropModel change the model itself.
#include "actors/model_actor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "actors/args.h"
#include "actors/backup.h"
#include "actors/event_batch.h"
#include "actors/migrate.h"
#include "actors/model_ops.h"
#include "core/aggregate.h"
#include "core/change_log.h"
#include "core/collection.h"
#include "core/ejson.h"
#include "protocol/reply.h"
#include "storage/pipelined_storage.h"

namespace mg {

namespace {

// A reply held until the next commit, and what becomes of it if that commit fails (the
// group's writes are rolled back, see roll_back()).
struct Held {
  enum class OnFailure : uint8_t {
    Keep,   // send as it is (no write, and it read nothing the rollback changes)
    Fail,   // the request wrote: answer StorageError instead; `id` is its request id
    Rerun,  // a request that did not write but may have read the rolled-back writes: handle
            // `request` again afterwards
  };
  Outgoing out;
  OnFailure on_failure = OnFailure::Keep;
  std::string id;       // Fail
  std::string request;  // Rerun
};

struct ModelState {
  ModelConfig cfg;
  std::unique_ptr<Collection> coll;
  Status open_status;
  std::vector<Held> pending;        // replies held until the next commit
  std::vector<ChangeEvent> events;  // of writes not yet committed
  std::unique_ptr<ChangeLog> log;   // committed events, retained for `changes`
  uint64_t committed_seq = 0;       // seq of the last committed event
  uint64_t commits = 0;             // group commits that wrote something (`stats`)
  bool dirty = false;               // writes applied since the last commit
  bool commit_scheduled = false;
  bool release_scheduled = false;  // a release_atom to self is on its way (hold())
  size_t batch_left = 0;           // requests of the ClientBatch being handled still to come
  // Group commit gathering (schedule_commit): client writes held in the open group and in
  // the last committed one; of the open group's, those that had queued up while the last
  // commit ran (`draining`: from its end until the mailbox is first empty); how long the
  // storage's last commit took; whether the commit of the open group waits for more writes,
  // and which wait (a timer that fires after its group was committed must not cut the next).
  uint32_t group_writes = 0, last_group_writes = 0, carried_writes = 0;
  size_t last_group_changes = 0;  // pipelined: documents the last flight wrote
  int64_t last_commit_us = 0;
  bool gathering = false, draining = false;
  uint64_t gather_id = 0;
  // The model's catalog entry (exists, encoded schema) before the first write of the group
  // that changed it (dropModel, a write creating the model): put back if the group fails.
  std::optional<std::pair<bool, std::string>> entry_before;
  int catalog_pending = 0;  // catalog updates not yet on disk: replies wait for them
  // Pipelined commit (ModelConfig::pipelined): the storage wrapper, and the group it is
  // committing on its thread — its held replies and events, released when it lands, and where
  // its writes end in the collection's undo log. At most one group is in flight; the writes
  // that arrive meanwhile form the open group (pending, events), submitted when it lands.
  PipelinedStorage* pipe = nullptr;
  struct Flight {
    std::vector<Held> pending;
    std::vector<ChangeEvent> events;
    Collection::UndoMark mark;
    std::chrono::steady_clock::time_point t0;
  };
  std::optional<Flight> flight;
  struct OpStats {
    uint64_t count = 0;
    double total_us = 0, max_us = 0;
  };
  std::map<std::string, OpStats, std::less<>> op_stats;
  static inline const char* name = "model";
};
using Self = caf::stateful_actor<ModelState>*;

// Sends held replies and, after a commit, the events of the writes they acknowledge. Nothing
// leaves while a catalog update is on its way to disk: a model (or schema) acknowledged but
// missing from the catalog would not be reopened after a crash.
void release_group(Self self, std::vector<Held>& pending, std::vector<ChangeEvent>& events) {
  auto& st = self->state;
  std::vector<Outgoing> out;
  out.reserve(pending.size() + 1);  // the replies and one EventBatch
  if (!events.empty()) st.committed_seq = events.back().seq;
  if (!events.empty() && st.cfg.sink->has_subscribers()) {
    // Copies share the documents (event_batch.h): the front door encodes them, not this thread.
    auto batch = std::make_shared<EventBatch>(st.cfg.db + "." + st.cfg.model);
    batch->add(events);
    Outgoing& o = out.emplace_back();
    o.kind = Outgoing::Kind::Event;
    o.events = std::move(batch);
  }
  st.log->append(std::move(events));  // moved, not copied: no per-event allocation
  events.clear();
  int64_t answered = int64_t(pending.size());
  for (auto& p : pending) out.push_back(std::move(p.out));
  pending.clear();
  if (!out.empty()) st.cfg.sink->post(std::move(out));
  st.cfg.inflight->fetch_sub(answered, std::memory_order_relaxed);
}

void release(Self self) {
  auto& st = self->state;
  if (st.catalog_pending > 0) return;
  release_group(self, st.pending, st.events);
}

void handle(Self self, const ClientRequest& req);
void notify_catalog(Self self);

// What a write of a group that could not be committed is answered.
Status commit_failure(const Status& why) {
  return make_status(ErrorCode::StorageError,
                     "commit failed, nothing of this write was applied (retry once the cause is "
                     "fixed): " +
                         why.message);
}

// The storage could not commit the group (disk full, I/O error, a lost transaction) and has
// rolled it back (storage_strategy.h): memory follows — documents, indexes and seq return to
// the last commit (Collection::rollback), the group's events are dropped, a catalog entry the
// group changed is put back. Then the storage is reconciled with memory before anything is
// answered: the engine may have logged the group's commit before the failure (EIO at fsync),
// and its next recovery would bring it back, so memory's versions of every document the group
// touched, and memory's seq, are written back in a transaction of their own that must be
// durable (Collection::reconcile_storage, storage/reconcile.h). If that fails too, the storage
// refuses every write with StorageError until it can do it (retried at each write), and the
// group's writes are told so. Every held reply of a write becomes StorageError; requests that
// did not write but ran after the group's first write are handled again, against what is now
// there. The model goes on serving reads.
void roll_back(Self self, const Status& why) {
  auto& st = self->state;
  size_t writes = size_t(std::count_if(st.pending.begin(), st.pending.end(), [](const Held& h) {
    return h.on_failure == Held::OnFailure::Fail;
  }));
  std::fprintf(stderr, "memgoosed: %s.%s: commit failed, %zu client writes rolled back: %s\n",
               st.cfg.db.c_str(), st.cfg.model.c_str(), writes, why.message.c_str());
  std::vector<std::string> touched = st.coll->rollback();
  st.events.clear();
  Status reconciled = st.coll->reconcile_storage(touched);
  if (!reconciled.ok())
    std::fprintf(stderr, "memgoosed: %s.%s: %s\n", st.cfg.db.c_str(), st.cfg.model.c_str(),
                 reconciled.message.c_str());
  if (st.entry_before) {
    auto [exists, schema] = std::move(*st.entry_before);
    st.entry_before.reset();
    (void)st.coll->set_schema(MpView(schema));
    st.cfg.exists = exists;
    notify_catalog(self);
  }
  // A backend's own indexes built inside the failed transaction (SQLite) are gone with it.
  (void)st.coll->storage().set_indexes(st.coll->schema().indexes());
  Status err = commit_failure(why);
  if (!reconciled.ok()) err.message += "; and then: " + reconciled.message;
  std::vector<ClientRequest> again;
  std::erase_if(st.pending, [&](Held& h) {
    if (h.on_failure == Held::OnFailure::Fail) h.out.body = error_reply(h.id, err);
    if (h.on_failure != Held::OnFailure::Rerun) return false;
    again.push_back(ClientRequest{h.out.route, std::move(h.request)});
    return true;
  });
  release(self);
  for (auto& req : again) handle(self, req);
}

// Pipelined commit (PipelinedStorage): hands the open group to the storage thread; its replies
// and events wait in the flight until it lands.
void submit(Self self);
// A flight landed: on success its replies and events go out and its writes' undo is dropped;
// on failure everything not yet durable (the flight and the open group) is rolled back.
void land(Self self, Status s);
// Lands what the storage thread completed (its `landed` message, or land_if_done()).
void landed(Self self);
// Waits for the group in flight, if any, and lands it.
void drain(Self self);
void schedule_commit(Self self);
// Pipelined: whether the last flight was mostly its sync (a few documents per write, many
// writers) rather than the writes' own work (insertMany batches: more than 4 per write).
bool small_group(const ModelState& st) {
  return st.last_group_changes <= 4 * size_t(st.last_group_writes);
}
// Whether the open group may be committed on the storage thread: a pipelined storage, and no
// catalog change in the group (those commit in place, after the flight has landed).
bool can_submit(const ModelState& st) {
  return st.pipe && st.catalog_pending == 0 && !st.entry_before;
}

// Commits the writes applied since the last commit and releases the held replies. Returns the
// storage's error when the group had to be rolled back (roll_back answered its writes). With a
// pipelined storage and `sync` false, the group is submitted and commit() returns at once
// (OK): its replies go out when it lands. `sync` (flush, backup, lookups, migration calls) and
// groups that change the catalog commit in place, after the flight has landed.
// Whether more client requests wait behind the one being handled: in the mailbox, or later in
// the ClientBatch being handled.
bool requests_waiting(Self self) {
  return self->state.batch_left > 0 || !self->mailbox().empty();
}

Status commit(Self self, bool sync = false) {
  auto& st = self->state;
  st.commit_scheduled = false;
  st.gathering = false;
  if (!sync && can_submit(st)) {
    if (st.dirty && !st.flight) submit(self);
    if (!st.dirty && !st.flight) release(self);
    return Status::OK();  // dirty with a flight: submitted when the flight lands
  }
  if (st.pipe) drain(self);
  Status s;
  if (st.dirty) {
    st.dirty = false;
    st.last_group_writes = std::exchange(st.group_writes, 0);
    st.carried_writes = 0;
    auto t0 = std::chrono::steady_clock::now();
    s = st.coll->storage().commit();
    st.last_commit_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    st.draining = requests_waiting(self);
    if (!s.ok()) {
      roll_back(self, s);
      return s;
    }
    st.coll->mark_committed();
    ++st.commits;
  }
  st.entry_before.reset();
  release(self);
  return s;
}

void submit(Self self) {
  auto& st = self->state;
  ModelState::Flight f;
  f.pending = std::move(st.pending);
  f.events = std::move(st.events);
  st.pending.clear();
  st.events.clear();
  f.mark = st.coll->undo_mark();
  f.t0 = std::chrono::steady_clock::now();
  st.dirty = false;
  st.last_group_writes = std::exchange(st.group_writes, 0);
  st.carried_writes = 0;
  st.flight = std::move(f);
  st.last_group_changes = st.pipe->open_changes();
  // Nothing for the storage (writes that changed nothing): the group is durable already.
  if (st.pipe->submit() == 0) land(self, Status::OK());
}

void land(Self self, Status s) {
  auto& st = self->state;
  ModelState::Flight f = std::move(*st.flight);
  st.flight.reset();
  st.last_commit_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - f.t0)
          .count();
  if (s.ok()) {
    st.coll->mark_committed(f.mark);
    ++st.commits;
    // The writes that arrived meanwhile go next; the flight's own writers, answered now, are
    // expected back too (schedule_commit may gather them: one sync for both halves).
    st.carried_writes = st.group_writes;
    st.draining = false;
    // A flight of big writes (insertMany batches): the storage thread is idle now, so what
    // was applied meanwhile leaves at once — before this flight's replies and events are
    // handed out (~50 ns per document), which then overlaps the write. Sent to the back of
    // the mailbox, it would wait until the requests queued there were applied too, the
    // storage thread idle all along.
    bool now = st.dirty && !small_group(st) && can_submit(st);
    if (now) commit(self);
    release_group(self, f.pending, f.events);
    if (st.dirty && !now) schedule_commit(self);
    return;
  }
  // Nothing after the last durable group stays: the open group is rolled back with the flight
  // (memory returns to f's start, Collection::rollback), its writes answered StorageError too.
  st.pipe->discard_open();
  std::vector<Held> all = std::move(f.pending);
  for (auto& h : st.pending) all.push_back(std::move(h));
  st.pending = std::move(all);
  st.dirty = false;
  st.group_writes = 0;
  roll_back(self, s);
}

void drain(Self self) {
  auto& st = self->state;
  if (!st.pipe) return;
  while (st.flight) {
    st.pipe->wait_idle();
    PipelinedStorage::Completion c;
    if (!st.pipe->poll(c)) break;  // cannot happen: idle with a flight means it completed
    land(self, std::move(c.status));
  }
}

// After each request: a group the storage thread has finished lands now, so that the next
// one leaves at once. Its `landed` message (high priority) would only be read once the
// mailbox's current round of requests is handled — insertMany batches of ~1 ms each, the
// storage thread idle meanwhile (traced: 1-2 ms between a group's end and its landing).
void land_if_done(Self self) {
  auto& st = self->state;
  if (st.flight && st.pipe->completed()) landed(self);
}

// The storage thread's message: lands what completed (a drain may have landed it already).
void landed(Self self) {
  auto& st = self->state;
  PipelinedStorage::Completion c;
  while (st.flight && st.pipe->poll(c)) land(self, std::move(c.status));
}

// Sends the commit of the open group to the back of the mailbox, so every request already
// waiting joins the group. When the last group held several client writes (several clients
// writing at once) and its commit was slow (a sync: file immediate, sqlite full, wiredtiger
// with journalSync), the commit also waits — at most half the last commit's time — until the
// writes expected have joined, so that one sync acknowledges them all (PostgreSQL's
// commit_delay with commit_siblings, adaptive). Expected: as many as last time (its clients
// write again once answered) plus those that queued up during its commit (other clients,
// already in this group). Counting only the former, two halves of the writers kept being
// committed apart, each half's group closing when it alone reached last time's size. One
// writer, or commits that do not sync, never wait; a group that has what is expected is
// committed at once.
void schedule_commit(Self self) {
  constexpr int64_t kMaxGatherUs = 2000;
  // A pipelined flight is the write and the sync: one fdatasync here takes ~130 us.
  const int64_t kSlowCommitUs = self->state.pipe ? 100 : 200;
  auto& st = self->state;
  // Pipelined, waiting pays only when the flight is mostly its sync (many small writers): a
  // flight of big writes (insertMany batches) is mostly their own work, and waiting for more of
  // them would leave the storage thread idle instead of overlapping it with the actor.
  bool small_writes = !st.pipe || small_group(st);
  // Pipelined: the group in flight gathers the next one; landing it schedules its commit.
  if (st.pipe && st.flight) return;
  // Pipelined big writes with the storage thread idle: this write leaves now, and the
  // requests waiting in the mailbox are applied while it is written. Sent to the back of the
  // mailbox, the commit would wait for them all: actor and storage thread would take turns
  // instead of working side by side (seen with 4 insertMany batches in flight: the storage
  // thread idle while the actor applied 3, the actor idle while it wrote them).
  if (!small_writes && can_submit(st)) {
    commit(self);
    return;
  }
  uint32_t expected = st.last_group_writes + st.carried_writes;
  if (st.gathering && !st.draining && st.group_writes >= expected) {
    st.gathering = false;  // enough writes: commit now (the timer is ignored)
    self->send(self, commit_atom::value);
    return;
  }
  if (st.commit_scheduled) return;
  st.commit_scheduled = true;
  if (st.last_group_writes >= 2 && st.last_commit_us >= kSlowCommitUs && small_writes &&
      (st.draining || st.group_writes < expected)) {
    st.gathering = true;
    self->delayed_send(self,
                       std::chrono::microseconds(std::min(st.last_commit_us / 2, kMaxGatherUs)),
                       commit_atom::value, ++st.gather_id);
    return;
  }
  self->send(self, commit_atom::value);
}

// The end of a gathering wait: commits unless the group it waited for was committed already.
void gather_timeout(Self self, uint64_t id) {
  if (self->state.gathering && id == self->state.gather_id) commit(self);
}

// After each request: the writes that queued up during the last commit have all been handled
// once the mailbox is empty (draining ends); a gathering group may be complete then.
void after_request(Self self, bool wrote) {
  auto& st = self->state;
  if (!st.draining) return;
  if (wrote) ++st.carried_writes;
  if (requests_waiting(self)) return;
  st.draining = false;
  if (st.gathering && st.group_writes >= st.last_group_writes + st.carried_writes) {
    st.gathering = false;
    self->send(self, commit_atom::value);
  }
}

// Remembers the model's catalog entry before the group changes it (roll_back puts it back).
void remember_entry(ModelState& st) {
  if (!st.entry_before) st.entry_before.emplace(st.cfg.exists, st.coll->schema().encoded());
}

// Holds `reply` until the next commit. `id` is the request's id and `request` the request
// itself (null when it must not run again, e.g. defineModel): kept only while writes wait,
// for roll_back().
// Replies held back at most while further requests wait (hold()).
constexpr size_t kMaxHeldReads = 256;

void hold(Self self, const Route& route, std::string reply, bool wrote, std::string_view id = {},
          const std::string* request = nullptr) {
  auto& st = self->state;
  Held h;
  h.out.route = route;
  h.out.body = std::move(reply);
  if (wrote) {
    h.on_failure = Held::OnFailure::Fail;
    h.id = id;
  } else if (st.dirty && request) {
    h.on_failure = Held::OnFailure::Rerun;
    h.request = *request;
  }
  if (!wrote && !st.dirty && st.flight) {
    // It may have read the flight's writes: answered when they are durable, handled again if
    // they are rolled back.
    if (request) {
      h.on_failure = Held::OnFailure::Rerun;
      h.request = *request;
    }
    st.flight->pending.push_back(std::move(h));
    return;
  }
  st.pending.push_back(std::move(h));
  st.dirty = st.dirty || wrote;
  if (!st.dirty) {  // nothing to commit: whatever the request changed stands
    st.entry_before.reset();
    // More requests are waiting (a pipelining client, many clients): hand the replies to the
    // front door in one batch once they are handled — one lock and at most one wake-up of
    // its poll loop instead of one per reply. The release_atom queues behind them, so no
    // reply waits for more than the requests that were already in the mailbox.
    if (requests_waiting(self) && st.pending.size() < kMaxHeldReads) {
      if (!st.release_scheduled) {
        st.release_scheduled = true;
        self->send(self, release_atom::value);
      }
      return;
    }
    return release(self);
  }
  if (wrote) ++st.group_writes;
  schedule_commit(self);
}

// Tells the database actor the model's new catalog entry; held replies wait for its answer,
// given once the catalog file is durable.
void notify_catalog(Self self) {
  auto& st = self->state;
  std::string schema = st.cfg.exists ? st.coll->schema().encoded() : std::string();
  st.catalog_pending++;
  self->request(st.cfg.database, caf::infinite, schema_atom::value, st.cfg.model, st.cfg.exists,
                schema)
      .then(
          [=](bool) {
            if (--self->state.catalog_pending == 0) commit(self);
          },
          [=](caf::error&) {
            if (--self->state.catalog_pending == 0) commit(self);
          });
}

std::string define_model(Self self, const Envelope& env) {
  auto& st = self->state;
  MpView schema = args::map(env, "schema");
  std::string empty_map("\x80", 1);
  Result<bool> changed = st.coll->set_schema(schema.valid() ? schema : MpView(empty_map));
  if (!changed.ok()) return error_reply(env.id, changed.status());
  bool created = !st.cfg.exists;
  st.cfg.exists = true;
  if (created || changed.value()) notify_catalog(self);
  ReplyWriter r(env.id, 1);
  r.key("created").boolean(created);
  return r.take();
}

std::string drop_model(Self self, const Envelope& env, bool& wrote) {
  auto& st = self->state;
  bool existed = st.cfg.exists;
  if (existed) {
    remember_entry(st);
    Status s = st.coll->clear(&st.events);
    if (!s.ok()) return error_reply(env.id, s);
    std::string empty_map("\x80", 1);
    (void)st.coll->set_schema(MpView(empty_map));
    st.cfg.exists = false;
    notify_catalog(self);
    wrote = true;
  }
  ReplyWriter r(env.id, 1);
  r.key("dropped").boolean(existed);
  return r.take();
}

void record(ModelState& st, std::string_view op, std::chrono::steady_clock::time_point t0) {
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  auto it = st.op_stats.find(op);
  if (it == st.op_stats.end()) {
    if (document_op_kind(op) == OpKind::Unknown && op != "defineModel" && op != "dropModel" &&
        op != "changes")
      return;  // don't let arbitrary op names grow the table
    it = st.op_stats.emplace(std::string(op), ModelState::OpStats{}).first;
  }
  it->second.count++;
  it->second.total_us += us;
  it->second.max_us = std::max(it->second.max_us, us);
}

std::string model_stats(Self self) {
  auto& st = self->state;
  CollectionStats cs = st.coll->stats();
  std::string out;
  MpWriter w(out);
  w.map_header(10);
  w.str("name"), w.str(st.cfg.model);
  w.str("exists"), w.boolean(st.cfg.exists);
  w.str("count"), w.integer(int64_t(cs.count));
  w.str("indexes"), w.integer(int64_t(cs.index_count));
  w.str("docBytes"), w.integer(int64_t(cs.doc_bytes));
  w.str("indexBytes"), w.integer(int64_t(cs.index_bytes));
  w.str("storageBytes"), w.integer(int64_t(cs.storage.bytes_on_disk));
  w.str("lastSeq"), w.integer(int64_t(st.coll->last_seq()));
  w.str("commits"), w.integer(int64_t(st.commits));
  w.str("ops");
  w.map_header(uint32_t(st.op_stats.size()));
  for (auto& [op, os] : st.op_stats) {
    w.str(op);
    w.map_header(3);
    w.str("count"), w.integer(int64_t(os.count));
    w.str("meanMicros"), w.float64(os.count ? os.total_us / double(os.count) : 0);
    w.str("maxMicros"), w.float64(os.max_us);
  }
  return out;
}

// changes {after, limit}: retained events with seq > after (CONTRACT.md §7), at most `limit`
// (default and maximum kChangesMax per reply; ask again from the last seq for more).
constexpr int64_t kChangesMax = 10000;
std::string changes(Self self, const Envelope& env) {
  auto& st = self->state;
  int64_t after = args::integer(env, "after", 0);
  int64_t limit = args::integer(env, "limit", kChangesMax);
  if (after < 0 || limit < 0) fail(ErrorCode::BadValue, "'after' and 'limit' must not be negative");
  if (limit == 0 || limit > kChangesMax) limit = kChangesMax;
  std::vector<const ChangeEvent*> found;
  Status s = st.log->since(uint64_t(after), size_t(limit), st.committed_seq, found);
  if (!s.ok()) return error_reply(env.id, s);
  size_t bytes = 0;
  for (auto* e : found) bytes += e->doc ? e->doc.size() + 64 : 64;
  ReplyWriter r(env.id, 2, bytes);
  MpWriter& w = r.key("events");
  w.array_header(uint32_t(found.size()));
  std::string events;
  events.reserve(bytes);
  for (auto* e : found) EventView::of(*e).append_to(events);
  w.raw(events);
  r.key("lastSeq").integer(int64_t(st.committed_seq));
  return r.take();
}

// aggregate: runs the pipeline until it finishes or stops before a $lookup of another model;
// then asks the database actor for that model's documents (its actor answers, this one never
// reads another model's state) and goes on in the response handler. The mailbox keeps flowing
// meanwhile (`then`, not `await`), so two models looking each other up cannot deadlock; the
// pipeline holds its documents by reference, so later writes do not change what it reads.
struct AggregateRun {
  std::unique_ptr<Aggregation> agg;
  std::string request;  // to run it again if writes it may have read are rolled back
  std::string id;
  Route route;
  std::chrono::steady_clock::time_point t0;
};

void drive(Self self, std::shared_ptr<AggregateRun> run) {
  auto& st = self->state;
  Result<bool> done = run->agg->run(*st.coll);
  if (!done.ok() || done.value()) {
    record(st, "aggregate", run->t0);
    std::string reply =
        done.ok() ? aggregate_reply(run->id, *run->agg) : error_reply(run->id, done.status());
    return hold(self, run->route, std::move(reply), false, run->id, &run->request);
  }
  const LookupQuery& q = run->agg->lookup();
  if (!st.cfg.database) {  // no database to ask (a model actor spawned alone, in tests)
    run->agg->provide({});
    return drive(self, std::move(run));
  }
  self->request(st.cfg.database, caf::infinite, lookup_atom::value, q.from, q.filter)
      .then(
          [=](LookupDocs& d) {
            run->agg->provide(std::move(d.docs));
            drive(self, run);
          },
          [=](caf::error&) {
            run->agg->provide({});
            drive(self, run);
          });
}

void aggregate(Self self, const ClientRequest& req, const Envelope& env,
               std::chrono::steady_clock::time_point t0) {
  std::string id(env.id);
  Result<std::unique_ptr<Aggregation>> agg = guard([&]() -> Result<std::unique_ptr<Aggregation>> {
    return Aggregation::compile(args::array(env, "pipeline", true));
  });
  if (!agg.ok()) return hold(self, req.route, error_reply(id, agg.status()), false);
  auto run = std::make_shared<AggregateRun>();
  run->agg = std::move(agg.value());
  run->request = req.body;
  run->id = std::move(id);
  run->route = req.route;
  run->t0 = t0;
  drive(self, std::move(run));
}

// $lookup from another model: the documents matching `filter`. Writes applied but not yet
// committed are committed first, so no client sees a write before it is durable.
LookupDocs lookup_docs(Self self, const std::string& filter) {
  auto& st = self->state;
  if (!st.open_status.ok() || !st.cfg.exists) return {};
  if (st.dirty || st.flight) commit(self, true);
  FindSpec spec;
  spec.filter = MpView(filter);
  auto docs = st.coll->find(spec);
  return docs.ok() ? LookupDocs{std::move(docs.value())} : LookupDocs{};
}

// call_atom (a migration writing into this model): runs `body` like a client's request, then
// commits, and answers the reply body instead of sending it to a client.
std::string call(Self self, const std::string& body) {
  auto& st = self->state;
  Envelope env;
  read_checked_envelope(body, env);
  if (!st.open_status.ok()) return error_reply(env.id, st.open_status);
  drain(self);  // it may change the catalog (no flight then, see handle())
  bool wrote = false;
  std::string reply;
  try {
    if (env.op == "defineModel") {
      reply = define_model(self, env);
    } else {
      reply = run_document_op(*st.coll, env, st.events, wrote);
      if (document_op_kind(env.op) == OpKind::Write && !st.cfg.exists) {
        remember_entry(st);
        st.cfg.exists = true;
        notify_catalog(self);
      }
    }
  } catch (...) {
    reply = error_reply(env.id, status_of_current_exception());
  }
  st.dirty = st.dirty || wrote;
  Status c = commit(self, true);
  if (!c.ok() && wrote) reply = error_reply(env.id, commit_failure(c));
  return reply;
}

void handle(Self self, const ClientRequest& req) {
  auto& st = self->state;
  auto t0 = std::chrono::steady_clock::now();
  Envelope env;
  read_checked_envelope(req.body, env);  // the front door validated it
  if (!st.open_status.ok())
    return hold(self, req.route, error_reply(env.id, st.open_status), false);
  if (env.op == "aggregate") return aggregate(self, req, env, t0);
  // Catalog changes (defineModel, dropModel, a write creating the model) commit in place
  // (commit()): the group in flight lands first, so it never shares its fate with one.
  if (st.flight && (env.op == "defineModel" || env.op == "dropModel" || !st.cfg.exists))
    drain(self);
  bool wrote = false;
  std::string reply;
  try {
    if (env.op == "defineModel") {
      reply = define_model(self, env);
    } else if (env.op == "dropModel") {
      reply = drop_model(self, env, wrote);
    } else if (env.op == "changes") {
      reply = changes(self, env);
    } else {
      OpKind kind = document_op_kind(env.op);
      if (kind == OpKind::Read && !st.cfg.exists) {
        reply = empty_read_reply(env);
      } else {
        reply = run_document_op(*st.coll, env, st.events, wrote);
        if (kind == OpKind::Write && !st.cfg.exists) {
          remember_entry(st);
          st.cfg.exists = true;  // a write to an undefined model creates it (§5)
          notify_catalog(self);
        }
      }
    }
  } catch (...) {
    reply = error_reply(env.id, status_of_current_exception());
  }
  record(st, env.op, t0);
  hold(self, req.route, std::move(reply), wrote, env.id,
       env.op == "defineModel" ? nullptr : &req.body);
  after_request(self, wrote);
}

void expire_ttl(Self self) {
  auto& st = self->state;
  if (st.open_status.ok()) {
    auto n = st.coll->expire(Date::now(), &st.events);
    if (n.ok() && n.value() > 0) {
      st.dirty = true;
      schedule_commit(self);
    }
  }
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
}

caf::behavior model_behavior(Self self, ModelConfig cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  std::unique_ptr<StorageStrategy> storage = st.cfg.make_storage();
  if (st.cfg.pipelined) {
    // Weak: the storage (in this actor's state) must not keep the actor alive.
    caf::weak_actor_ptr me(self->ctrl());
    auto pipe = std::make_unique<PipelinedStorage>(std::move(storage), [me] {
      // High priority: ahead of the client requests queued meanwhile, so that the next group
      // leaves while the storage thread is idle, not after they are all applied.
      if (auto p = me.lock())
        caf::anon_send<caf::message_priority::high>(caf::actor_cast<caf::actor>(p),
                                                    landed_atom::value);
    });
    st.pipe = pipe.get();
    storage = std::move(pipe);
  }
  st.coll = std::make_unique<Collection>(st.cfg.model, std::move(storage));
  std::string schema = st.cfg.schema.empty() ? std::string("\x80", 1) : st.cfg.schema;
  st.open_status = st.coll->open(MpView(schema));
  st.log = std::make_unique<ChangeLog>(st.cfg.change_log_size);
  st.committed_seq = st.coll->last_seq();
  st.coll->track_undo(true);
  if (!st.open_status.ok()) {
    st.open_status.code = ErrorCode::StorageError;
    st.open_status.message =
        "model " + st.cfg.db + "." + st.cfg.model + " cannot be opened: " + st.open_status.message;
  }
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  if (st.cfg.database)
    self->send(st.cfg.database, model_atom::value, st.cfg.model, caf::actor_cast<caf::actor>(self));
  return {
      [=](const ClientRequest& req) {
        handle(self, req);
        land_if_done(self);
      },
      [=](const ClientBatch& batch) {
        size_t n = batch.requests.size();
        for (size_t i = 0; i < n; ++i) {
          self->state.batch_left = n - 1 - i;
          handle(self, batch.requests[i]);
          land_if_done(self);
        }
      },
      [=](commit_atom) { commit(self); },
      [=](release_atom) {
        self->state.release_scheduled = false;
        if (!self->state.dirty) release(self);  // else the commit releases them
      },
      [=](commit_atom, uint64_t gather_id) { gather_timeout(self, gather_id); },
      [=](tick_atom) { expire_ttl(self); },
      [=](landed_atom) { landed(self); },
      [=](flush_atom) -> std::string {
        commit(self, true);
        Status s = self->state.coll->storage().flush();
        return s.ok() ? std::string() : s.message;
      },
      [=](info_atom) -> std::string {  // {name, count, schema} for listModels, or "" if absent
        auto& s = self->state;
        if (!s.cfg.exists) return std::string();
        std::string out;
        MpWriter w(out);
        w.map_header(3);
        w.str("name"), w.str(s.cfg.model);
        w.str("count"), w.integer(int64_t(s.coll->size()));
        w.str("schema"), w.raw(s.coll->schema().encoded());
        return out;
      },
      [=](stats_atom) -> std::string { return model_stats(self); },
      [=](lookup_atom, const std::string& filter) { return lookup_docs(self, filter); },
      // Migration and backup (actors/migrate.h, actors/backup.h): each runs between two
      // requests, after the writes before it are committed.
      [=](page_atom, const std::string& after, uint64_t limit) -> MigratePage {
        auto& s = self->state;
        MigratePage page;
        if (!s.open_status.ok()) page.error = s.open_status.message;
        if (!s.open_status.ok() || !s.cfg.exists) return page;
        commit(self, true);
        return read_page(*s.coll, after, size_t(limit));
      },
      [=](call_atom, const std::string& body) -> std::string { return call(self, body); },
      [=](backup_atom, const std::string& dir) -> std::string {
        auto& s = self->state;
        if (!s.open_status.ok() || !s.cfg.exists) return std::string();
        commit(self, true);
        return backup_model(*s.coll, s.cfg.model, dir);
      },
      // "" once the storage opened, else why not (start-up checks every model).
      [=](opened_atom) -> std::string { return self->state.open_status.message; },
      // dropDatabase (Registry::drop_database waits for the answer before it moves the
      // directory): the writes before it are committed and answered, then the storage is
      // closed (WiredTiger's final checkpoint, SQLite's -wal) and its files removed. Replies
      // held for a catalog write still in flight are released too: the catalog goes with the
      // database, and this actor ends before that answer would come (their clients waited
      // forever).
      [=](drop_atom) -> bool {
        self->state.catalog_pending = 0;
        commit(self, true);
        self->state.catalog_pending = 0;  // a group rolled back by commit() notifies it again
        release(self);
        (void)self->state.coll->storage().destroy();
        self->quit();
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_model_actor(caf::actor_system& sys, ModelConfig cfg) {
  // Detached: each model actor runs on a thread of its own that sleeps on its mailbox and is
  // woken directly by the message that arrives. On CAF 0.17's work-stealing scheduler a request
  // waited for an idle worker to finish a 50 µs nap (findOne p50 2.6x the ZeroMQ echo, 1.4x
  // detached), and a request for one model could sit in the queue of a worker busy with another
  // model's ingest until a sleeping worker woke to steal it (isolation p99 3.1x idle, 1.9x
  // detached). The cost is one mostly sleeping thread (and its stack) per open model.
  return sys.spawn<caf::detached>(model_behavior, std::move(cfg));
}

}  // namespace mg
