// storage/file_storage_load.cc — streaming a snapshot's documents to open()'s sink.
//
// Parsing Extended JSON and the sink's work (the Collection validates and indexes every
// document) cost about the same. For a big snapshot the lines are therefore parsed on a helper
// thread, in batches of a few thousand documents, while the caller feeds the previous batch to
// the sink: two cores load about 1.5x faster than one. The helper only reads the file and the
// (then unchanging) Overlay; the sink always runs on the caller's thread, in file order, and
// the first error — a bad line or a refusing sink — ends the load as if it were sequential.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "storage/file_storage_internal.h"

namespace mg::file_detail {

namespace {

constexpr size_t kBatchDocs = 4096;
constexpr size_t kBatchBytes = size_t(2) << 20;
constexpr size_t kQueueBatches = 3;

// Parsed documents, back to back, with the line each came from; then maybe the error that
// stopped the parse; `last` marks the final batch.
struct Batch {
  std::string mp;
  std::vector<std::pair<size_t, uint64_t>> docs;  // (end offset in mp, line)
  Status error;
  bool last = false;
};

Status at_line(const std::string& path, uint64_t line, Status s) {
  s.message = path + ":" + std::to_string(line) + ": " + s.message;
  return s;
}

// Parses the snapshot into batches handed to push(), which returns false to stop early.
void produce(LineReader& reader, const std::string& first, const std::string& path,
             const Overlay& live, const std::function<bool(Batch&&)>& push) {
  Batch b;
  std::string mp, key;
  auto one = [&](std::string_view line, uint64_t line_no) {
    if (wal_blank(line)) return true;
    Status s = wal_parse_document(line, mp);
    if (!s.ok()) {
      b.error = at_line(path, line_no, s);
      return false;
    }
    if (live.supersedes()) {
      wal_id_key(MpView(mp).get("_id"), key);
      if (live.hides(key)) return true;  // a newer version comes from the WAL
    }
    b.mp += mp;
    b.docs.emplace_back(b.mp.size(), line_no);
    return true;
  };
  bool ok = first.empty() || one(first, 1);
  std::string_view line;
  bool terminated;
  while (ok && reader.next(line, terminated)) {
    ok = one(line, reader.line_no());
    if (ok && (b.docs.size() >= kBatchDocs || b.mp.size() >= kBatchBytes)) {
      if (!push(std::move(b))) return;
      b = Batch();
    }
  }
  if (ok && !reader.status().ok())
    b.error = make_status(ErrorCode::StorageError, path + ": " + reader.status().message);
  b.last = true;
  push(std::move(b));
}

// Feeds one batch to the sink. Returns false when loading must stop (`result` says why).
bool consume(Batch& b, const std::string& path, const std::function<Status(std::string_view)>& sink,
             Status& result) {
  size_t start = 0;
  for (auto& [end, line] : b.docs) {
    Status s = sink(std::string_view(b.mp).substr(start, end - start));
    if (!s.ok()) {
      result = at_line(path, line, s);
      return false;
    }
    start = end;
  }
  if (!b.error.ok()) result = b.error;
  return b.error.ok() && !b.last;
}

// A bounded queue of batches between the parsing thread and the caller.
struct Pipe {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> q;
  bool stop = false;  // the caller gave up: the producer ends

  bool push(Batch&& b) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop || q.size() < kQueueBatches; });
    if (stop) return false;
    q.push_back(std::move(b));
    cv.notify_all();
    return true;
  }
  Batch pop() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !q.empty(); });
    Batch b = std::move(q.front());
    q.pop_front();
    cv.notify_all();
    return b;
  }
  void cancel() {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  }
};

}  // namespace

Status stream_snapshot(LineReader& reader, const std::string& first, const std::string& path,
                       const Overlay& live, bool parallel,
                       const std::function<Status(std::string_view)>& sink) {
  Status result;
  if (!parallel) {
    produce(reader, first, path, live, [&](Batch&& b) { return consume(b, path, sink, result); });
    return result;
  }
  Pipe pipe;
  std::thread parser([&] {
    try {
      produce(reader, first, path, live, [&](Batch&& b) { return pipe.push(std::move(b)); });
    } catch (...) {  // e.g. bad_alloc: hand it over as the last batch
      Batch b;
      b.error = status_of_current_exception();
      b.last = true;
      pipe.push(std::move(b));
    }
  });
  try {
    for (;;) {
      Batch b = pipe.pop();
      if (!consume(b, path, sink, result)) break;
    }
  } catch (...) {
    pipe.cancel();
    parser.join();
    throw;
  }
  pipe.cancel();
  parser.join();
  return result;
}

}  // namespace mg::file_detail
