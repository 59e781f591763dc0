// storage/file_storage_bg.cc — the file engine's background threads (see
// file_storage_internal.h): the debounced syncer, the compactor and apply()'s encoding helper.
//
// The syncer keeps a list of (deadline, WAL). commit() in debounced mode adds its WAL with
// deadline now + debounceMs unless it is already listed; the thread sleeps until the earliest
// deadline and fdatasyncs every WAL due. A WAL's descriptor may be swapped by a compaction or
// released by close() meanwhile: WalFile::sync() takes its own reference to the descriptor
// under the WAL's lock, so it never syncs a closed or reused descriptor number.
#include <cstdio>
#include <system_error>
#include <utility>

#include "storage/file_storage_internal.h"

namespace mg::file_detail {

void CompactionJob::finish(State s, Status err, uint64_t bytes) {
  std::lock_guard lock(mu);
  state = s;
  error = std::move(err);
  snapshot_bytes = bytes;
  cv.notify_all();
}

CompactionJob::State CompactionJob::wait() {
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return state != State::Running; });
  return state;
}

bool CompactionJob::done() {
  std::lock_guard lock(mu);
  return state != State::Running;
}

FileBackground::~FileBackground() {
  std::vector<std::shared_ptr<CompactionJob>> abandoned;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    abandoned.swap(jobs_);
  }
  {
    std::lock_guard lock(help_mu_);
    help_stop_ = true;
  }
  sync_cv_.notify_all();
  compact_cv_.notify_all();
  help_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (compactor_.joinable()) compactor_.join();
  if (helper_.joinable()) helper_.join();
  for (auto& j : abandoned)
    j->finish(CompactionJob::State::SnapshotFailed,
              make_status(ErrorCode::StorageError, "the engine stopped"), 0);
}

void FileBackground::start_locked() {
  if (started_) return;
  started_ = true;
  syncer_ = std::thread([this] { sync_loop(); });
  compactor_ = std::thread([this] { compact_loop(); });
}

void FileBackground::schedule_sync(const std::shared_ptr<WalFile>& wal) {
  if (wal->sync_scheduled.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    start_locked();
    syncs_.emplace_back(std::chrono::steady_clock::now() + debounce_, wal);
  }
  sync_cv_.notify_one();
}

void FileBackground::submit(std::shared_ptr<CompactionJob> job) {
  {
    std::lock_guard lock(mu_);
    if (stop_) {
      job->finish(CompactionJob::State::SnapshotFailed,
                  make_status(ErrorCode::StorageError, "the engine stopped"), 0);
      return;
    }
    start_locked();
    jobs_.push_back(std::move(job));
  }
  compact_cv_.notify_one();
}

bool FileBackground::try_help(std::function<void()> task) {
  {
    std::lock_guard lock(help_mu_);
    if (help_busy_ || help_stop_) return false;
    if (!helper_.joinable()) {
      try {
        helper_ = std::thread([this] { help_loop(); });
      } catch (const std::system_error&) {  // no thread to be had (a task limit): work alone
        return false;
      }
    }
    help_busy_ = true;
    help_done_ = false;
    help_task_ = std::move(task);
  }
  help_cv_.notify_one();
  return true;
}

void FileBackground::wait_help() {
  std::unique_lock lock(help_mu_);
  help_done_cv_.wait(lock, [&] { return help_done_; });
  help_busy_ = false;
  help_task_ = nullptr;
  std::exception_ptr e = std::exchange(help_error_, nullptr);
  lock.unlock();
  if (e) std::rethrow_exception(e);
}

void FileBackground::help_loop() {
  std::unique_lock lock(help_mu_);
  for (;;) {
    help_cv_.wait(lock, [&] { return help_stop_ || (help_busy_ && !help_done_); });
    if (help_stop_) return;
    lock.unlock();
    std::exception_ptr e;
    try {
      help_task_();
    } catch (...) {
      e = std::current_exception();
    }
    lock.lock();
    help_error_ = e;
    help_done_ = true;
    help_done_cv_.notify_all();
  }
}

void FileBackground::sync_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (syncs_.empty()) {
      sync_cv_.wait(lock);
      continue;
    }
    auto earliest = syncs_.front().first;
    for (auto& [t, _] : syncs_) earliest = std::min(earliest, t);
    if (std::chrono::steady_clock::now() < earliest) {
      sync_cv_.wait_until(lock, earliest);
      continue;
    }
    // Every listed WAL is synced now: one that is not yet due only gets its sync early.
    std::vector<std::shared_ptr<WalFile>> due;
    for (auto& [_, w] : syncs_) due.push_back(std::move(w));
    syncs_.clear();
    lock.unlock();
    for (auto& w : due) {
      w->sync_scheduled.store(false);  // a commit from now on schedules another sync
      Status s = w->sync();
      if (!s.ok()) std::fprintf(stderr, "memgoosed: %s\n", s.message.c_str());
    }
    due.clear();
    lock.lock();
  }
}

void FileBackground::compact_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (jobs_.empty()) {
      compact_cv_.wait(lock);
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.erase(jobs_.begin());
    lock.unlock();
    run_compaction(*job);
    job.reset();
    lock.lock();
  }
}

}  // namespace mg::file_detail
