// storage/pipelined_storage.cc — see pipelined_storage.h.
#include "storage/pipelined_storage.h"

#include <pthread.h>

#include <utility>

namespace mg {

PipelinedStorage::PipelinedStorage(std::unique_ptr<StorageStrategy> inner,
                                   std::function<void()> notify)
    : inner_(std::move(inner)), notify_(std::move(notify)) {
  thread_ = std::thread([this] { loop(); });
  pthread_setname_np(thread_.native_handle(), "mg-commit");
}

PipelinedStorage::~PipelinedStorage() {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return !queued_ && !busy_; });
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
  inner_->close();
}

void PipelinedStorage::loop() {
  for (;;) {
    std::unique_ptr<Group> g;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || queued_; });
      if (!queued_) return;  // stopping, nothing left
      g = std::move(queued_);
      busy_ = true;
    }
    Status s = run(*g);
    g->recs.clear();
    // A huge group's buffer is not kept (64 MiB: a few insertMany of big documents).
    if (g->bytes.capacity() > (size_t(64) << 20)) g->bytes = std::string();
    g->bytes.clear();
    {
      std::lock_guard lock(mu_);
      done_.push_back(Completion{g->ticket, std::move(s)});
      completions_.store(done_.size(), std::memory_order_release);
      busy_ = false;
      if (!spare_) spare_ = std::move(g);
    }
    idle_cv_.notify_all();
    if (notify_) notify_();
  }
}

Status PipelinedStorage::run(const Group& g) {
  try {
    std::vector<Change>& changes = changes_;
    changes.resize(g.recs.size());
    for (size_t i = 0; i < g.recs.size(); ++i) {
      const Group::Rec& r = g.recs[i];
      changes[i].op = r.op;
      changes[i].seq = r.seq;
      std::string_view own(g.bytes), doc = r.ref ? r.ref.bytes() : own;
      changes[i].id = (r.id_in_ref ? doc : own).substr(r.id_off, r.id_len);
      changes[i].doc = doc.substr(r.doc_off, r.doc_len);
      changes[i].ref = r.ref ? &r.ref : nullptr;
    }
    // One call: the inner strategy knows no other apply() joins this transaction (WiredTiger
    // then keeps no copy of the documents for a replay). On a refused apply nothing of the
    // group is applied and nothing is left uncommitted (nothing else is in the transaction).
    return inner_->apply_and_commit(changes);
  } catch (const std::exception& e) {
    return make_status(ErrorCode::StorageError, std::string("commit failed: ") + e.what());
  }
}

uint64_t PipelinedStorage::submit() {
  if (open_.recs.empty()) return 0;
  auto g = std::make_unique<Group>(std::move(open_));
  open_ = recycled();
  g->ticket = next_ticket_++;
  uint64_t ticket = g->ticket;
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return !queued_ && !busy_; });
    queued_ = std::move(g);
    ++unreported_;
  }
  work_cv_.notify_one();
  return ticket;
}

PipelinedStorage::Group PipelinedStorage::recycled() {
  std::unique_ptr<Group> spare;
  {
    std::lock_guard lock(mu_);
    spare = std::move(spare_);
  }
  return spare ? std::move(*spare) : Group();
}

bool PipelinedStorage::in_flight() const {
  std::lock_guard lock(mu_);
  return unreported_ > 0;
}

bool PipelinedStorage::poll(Completion& out) {
  std::lock_guard lock(mu_);
  if (done_.empty()) return false;
  out = std::move(done_.front());
  done_.pop_front();
  completions_.store(done_.size(), std::memory_order_release);
  --unreported_;
  return true;
}

void PipelinedStorage::wait_idle() const {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return !queued_ && !busy_; });
}

void PipelinedStorage::discard_open() {
  open_.bytes.clear();
  open_.recs.clear();
}

Status PipelinedStorage::open(const std::function<Status(std::string_view doc)>& sink) {
  wait_idle();
  return inner_->open(sink);
}

uint64_t PipelinedStorage::last_seq() const {
  wait_idle();
  return inner_->last_seq();
}

namespace {

// The offset of `part` in `whole` when it lies inside it, else npos.
size_t offset_in(std::string_view part, std::string_view whole) {
  auto p = reinterpret_cast<uintptr_t>(part.data()), w = reinterpret_cast<uintptr_t>(whole.data());
  if (part.empty() || p < w || p + part.size() > w + whole.size()) return std::string_view::npos;
  return size_t(p - w);
}

}  // namespace

Status PipelinedStorage::apply(std::span<const Change> changes) {
  Group& g = open_;
  for (const Change& c : changes) {
    Group::Rec r{c.op, c.seq, 0, c.id.size(), 0, c.doc.size(), DocRef(), false};
    size_t doc_off = c.ref && *c.ref ? offset_in(c.doc, c.ref->bytes()) : std::string_view::npos;
    if (doc_off != std::string_view::npos) {
      r.ref = *c.ref;
      r.doc_off = doc_off;
      r.id_off = offset_in(c.id, c.ref->bytes());
      r.id_in_ref = r.id_off != std::string_view::npos;
    }
    if (!r.id_in_ref) {
      r.id_off = g.bytes.size();
      g.bytes.append(c.id);
    }
    if (!r.ref) {
      r.doc_off = g.bytes.size();
      g.bytes.append(c.doc);
    }
    g.recs.push_back(std::move(r));
  }
  return Status::OK();
}

Status PipelinedStorage::commit() {
  wait_idle();
  if (open_.recs.empty()) return inner_->commit();
  Group g = std::move(open_);
  Status s = run(g);
  g.bytes.clear();
  g.recs.clear();
  open_ = std::move(g);  // its buffers serve the next group
  return s;
}

Status PipelinedStorage::reconcile(std::span<const Change> changes, uint64_t seq) {
  wait_idle();
  return inner_->reconcile(changes, seq);
}

Status PipelinedStorage::flush() {
  Status s = commit();
  if (!s.ok()) return s;
  return inner_->flush();
}

void PipelinedStorage::close() {
  wait_idle();
  inner_->close();
}

Status PipelinedStorage::destroy() {
  wait_idle();
  open_ = Group();
  return inner_->destroy();
}

StorageStats PipelinedStorage::stats() const {
  wait_idle();
  return inner_->stats();
}

Status PipelinedStorage::set_indexes(const std::vector<IndexSpec>& indexes) {
  wait_idle();
  return inner_->set_indexes(indexes);
}

Result<bool> PipelinedStorage::backup(const std::string& dir) {
  wait_idle();
  return inner_->backup(dir);
}

}  // namespace mg
