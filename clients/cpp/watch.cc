// clients/cpp/watch.cc — the Watcher: live events from a SUB socket, gaps filled from
// `changes` (see watch.h for the contract).
//
// State, with tail() = last_ + ready_.size():
//   last_   seq of the last event next() returned;
//   ready_  the events last_+1 .. tail(), contiguous, in order: next() pops the front;
//   ahead_  events with seq > tail() + 1 (received live past a gap), by seq;
//   known_  the highest seq known to exist: from live events and each reply's lastSeq.
// The Watcher is behind when known_ > tail(): it then asks `changes` after tail() for one
// page, and take() files every event it gets, live or fetched, the same way: at or below
// tail() it is a duplicate, at tail() + 1 it extends ready_ (pulling in whatever of ahead_ now
// follows), beyond that it waits in ahead_. The daemon's `changes` reply is authoritative: when
// it starts past tail() + 1 without ChangeStreamHistoryLost, the seqs in between do not exist.
#include "clients/cpp/watch.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace mg::client {

namespace {

constexpr size_t kReadAhead = 64;  // live events decoded ahead of the one next() returns

Error history_lost(const std::string& topic, const std::string& what) {
  return Error(286, "ChangeStreamHistoryLost",
               "change stream of " + topic + ": " + what + "; resynchronise from a find");
}

}  // namespace

namespace {

// The fields of one event map, as they are found.
struct EventFields {
  MpView seq, op, id, ts;
  std::string_view id_bytes, doc_bytes;

  // Files the value [v, v_end) under `key`; other keys are ignored.
  void file(MpView key, const uint8_t* v, const uint8_t* v_end) {
    if (key.type() != MpType::Str) return;
    MpView value(v);
    std::string_view bytes(reinterpret_cast<const char*>(v), size_t(v_end - v));
    std::string_view k = key.as_str();
    if (k == "seq")
      seq = value;
    else if (k == "op")
      op = value;
    else if (k == "id")
      id = value, id_bytes = bytes;
    else if (k == "doc" && value.type() != MpType::Nil)
      doc_bytes = bytes;
    else if (k == "ts")
      ts = value;
  }

  bool finish(Event& out) const {
    if (!seq.valid() || seq.type() != MpType::Int || seq.as_int() <= 0) return false;
    if (!op.valid() || op.type() != MpType::Str || !id.valid()) return false;
    if (!ts.valid() || ts.type() != MpType::Date) return false;
    out.seq = uint64_t(seq.as_int());
    out.op.assign(op.as_str());
    out.id.assign(id_bytes);
    out.doc.assign(doc_bytes);
    out.ts = ts.as_date();
    return true;
  }
};

// Decodes a live event straight from the SUB socket's bytes. One bounds-checked walk
// (check_structure) finds where each top-level key and value starts, so nothing is walked
// twice: a truncated or malformed message is refused and never read out of bounds. The
// daemon's own limits (names, depth) are not checked again: the client only reads the fields
// above and hands the document over as bytes that are well-formed MessagePack.
bool decode_live_event(std::string_view bytes, Event& out) {
  thread_local std::vector<const uint8_t*> items;
  if (bytes.empty() || !check_structure(bytes, &items).ok()) return false;
  MpView root(reinterpret_cast<const uint8_t*>(bytes.data()));
  if (root.type() != MpType::Map || items.size() != size_t(root.count()) * 2) return false;
  const uint8_t* end = reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size();
  EventFields f;
  for (size_t i = 0; i < items.size(); i += 2)
    f.file(MpView(items[i]), items[i + 1], i + 2 < items.size() ? items[i + 2] : end);
  return f.finish(out);
}

}  // namespace

bool parse_event(MpView body, Event& out) {
  if (!body.valid() || body.type() != MpType::Map) return false;
  EventFields f;
  const uint8_t* p = body.first();
  for (uint32_t n = body.count(); n > 0; --n) {  // one pass: each value is walked once
    MpView key(p), value(key.end());
    p = value.end();
    f.file(key, value.data(), p);
  }
  return f.finish(out);
}

Watcher::Watcher(std::string req_endpoint, std::string pub_endpoint, std::string db,
                 std::string model, uint64_t after, WatchOptions opts)
    : client_(std::move(req_endpoint), opts.client),
      db_(std::move(db)),
      model_(std::move(model)),
      topic_(db_ + "." + model_),
      opts_(std::move(opts)) {
  zmq::context_t* ctx = opts_.client.context;
  if (!ctx) ctx = &own_context_.emplace(1);
  sub_ = zmq::socket_t(*ctx, zmq::socket_type::sub);
  sub_.set(zmq::sockopt::linger, 0);
  sub_.set(zmq::sockopt::rcvhwm, std::max(opts_.sub_hwm, 0));
  if (opts_.client.curve) apply_curve(sub_, *opts_.client.curve);
  if (opts_.configure_sub) opts_.configure_sub(sub_);
  sub_.set(zmq::sockopt::subscribe, topic_);  // before any history is read
  try {
    sub_.connect(pub_endpoint);
  } catch (const zmq::error_t& e) {
    throw Error(2, "BadValue", "cannot connect to '" + pub_endpoint + "': " + e.what());
  }
  reset(after);
}

Watcher::~Watcher() = default;

void Watcher::reset(uint64_t after) {
  ready_.clear();
  ahead_.clear();
  from_now_ = after == kNow;
  last_ = known_ = from_now_ ? 0 : after;
  synced_ = false;
  check_at_ = Clock::now() + opts_.idle_check;
}

std::optional<Event> Watcher::next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const bool check_each_call = opts_.idle_check.count() <= 0;
  bool checked = false;
  for (;;) {
    receive_live();
    if (!synced_) catch_up();  // first: history (or the current seq) before anything live
    if (!ready_.empty()) {
      Event e = std::move(ready_.front());
      ready_.pop_front();
      last_ = e.seq;
      ++stats_.delivered;
      check_at_ = Clock::now() + opts_.idle_check;
      return e;
    }
    if (known_ > tail()) {  // a gap: fetch what the SUB socket did not bring
      catch_up();
      continue;
    }
    auto now = Clock::now();
    auto check = check_each_call ? deadline : check_at_;
    if (now >= check && !checked) {  // silent for a while: were the last events dropped?
      checked = check_each_call;
      catch_up();
      check_at_ = Clock::now() + opts_.idle_check;
      continue;
    }
    if (now >= deadline) return std::nullopt;
    if (wait_live(std::min(deadline, check)) == Wait::Interrupted)
      return std::nullopt;  // a signal: let the caller look at it
  }
}

// Reads what the SUB socket has queued, but only a little ahead of the consumer: events wait in
// ZeroMQ's queue rather than in ready_ (less memory, warm caches). Behind a gap (ready_ stays
// empty) it reads everything queued into ahead_, up to max_buffered, so that the PUB side does
// not drop more while the hole is fetched.
void Watcher::receive_live() {
  while (ready_.size() < kReadAhead && ready_.size() + ahead_.size() < opts_.max_buffered) {
    zmq::message_t topic, body;
    try {
      if (!sub_.recv(topic, zmq::recv_flags::dontwait)) return;
      if (!topic.more()) {
        ++stats_.malformed;
        continue;
      }
      (void)sub_.recv(body);  // the rest of a multipart message is already queued
      bool extra = false;
      while (body.more()) (void)sub_.recv(body), extra = true;
      if (extra) {
        ++stats_.malformed;
        continue;
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return;
      throw;
    }
    // ZeroMQ matched a prefix: "db.Model" also brings "db.ModelX".
    if (topic.size() != topic_.size() || std::memcmp(topic.data(), topic_.data(), topic.size()))
      continue;
    std::string_view bytes(body.data<char>(), body.size());
    Event e;
    if (!decode_live_event(bytes, e)) {
      ++stats_.malformed;
      continue;
    }
    ++stats_.live;
    if (synced_ && e.seq > std::max(known_, tail()) + 1) ++stats_.gaps;
    known_ = std::max(known_, e.seq);
    take(std::move(e));
  }
}

Watcher::Wait Watcher::wait_live(Clock::time_point until) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
  if (left.count() < 0) left = std::chrono::milliseconds(0);
  zmq::pollitem_t item{sub_.handle(), 0, ZMQ_POLLIN, 0};
  try {
    zmq::poll(&item, 1, left);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return Wait::Interrupted;
    throw;
  }
  return (item.revents & ZMQ_POLLIN) ? Wait::Ready : Wait::Timeout;
}

void Watcher::take(Event e) {
  uint64_t t = tail(), seq = e.seq;
  if (seq <= t) {
    ++stats_.duplicates;
  } else if (seq == t + 1) {
    ready_.push_back(std::move(e));
    settle();
  } else if (!ahead_.emplace(seq, std::move(e)).second) {
    ++stats_.duplicates;
  }
}

void Watcher::settle() {
  while (!ahead_.empty()) {
    auto it = ahead_.begin();
    uint64_t t = tail();
    if (it->first > t + 1) return;
    if (it->first <= t)
      ++stats_.duplicates;
    else
      ready_.push_back(std::move(it->second));
    ahead_.erase(it);
  }
}

// One `changes` page after tail(); see the top of this file.
void Watcher::catch_up() {
  if (from_now_) return start_from_now();
  uint64_t after = tail();
  int64_t limit = opts_.page_size;
  if (!ahead_.empty()) {  // what is already buffered need not come again
    int64_t hole = int64_t(ahead_.begin()->first - after - 1);
    limit = limit > 0 ? std::min(limit, hole) : hole;
  }
  ++stats_.requests;
  ChangesResult r = client_.changes(db_, model_, int64_t(after), limit);
  uint64_t last_seq = uint64_t(std::max<int64_t>(r.last_seq, 0));
  if (last_seq < after)
    throw history_lost(topic_, "its seq went back from " + std::to_string(after) + " to " +
                                   std::to_string(last_seq) + " (the model's history restarted)");
  std::vector<Event> events(r.events.size());
  for (size_t i = 0; i < r.events.size(); ++i)
    if (!parse_event(MpView(r.events[i]), events[i]) || events[i].seq <= after)
      throw Error(1, "InternalError", "malformed event in the 'changes' reply for " + topic_);
  synced_ = true;
  known_ = std::max(known_, last_seq);
  stats_.fetched += events.size();
  // Nothing exists between `after` and the first event returned (or lastSeq when none is).
  uint64_t first = events.empty() ? last_seq + 1 : events.front().seq;
  if (ready_.empty() && first > after + 1) {
    last_ = first - 1;
    settle();
  }
  for (auto& e : events) take(std::move(e));
}

// Resolves kNow: the model's current last seq, asked after subscribing.
void Watcher::start_from_now() {
  ++stats_.requests;
  ChangesResult r = client_.changes(db_, model_, std::numeric_limits<int64_t>::max(), /*limit=*/1);
  from_now_ = false;
  synced_ = true;
  last_ = uint64_t(std::max<int64_t>(r.last_seq, 0));
  known_ = std::max(known_, last_);
  for (auto& e : ready_) {
    uint64_t seq = e.seq;
    ahead_.emplace(seq, std::move(e));
  }
  ready_.clear();
  settle();
}

}  // namespace mg::client
