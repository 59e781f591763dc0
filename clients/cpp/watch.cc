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

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "core/msgpack_lead.h"

namespace mg::client {

namespace {

constexpr size_t kReadAhead = 64;  // live events decoded ahead of the one next() returns
constexpr auto kReconnectEvery = std::chrono::milliseconds(200);  // direct mode, when lost

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

  bool complete() const {
    if (!seq.valid() || seq.type() != MpType::Int || seq.as_int() <= 0) return false;
    if (!op.valid() || op.type() != MpType::Str || !id.valid()) return false;
    return ts.valid() && ts.type() == MpType::Date;
  }
  uint64_t seq_value() const { return uint64_t(seq.as_int()); }

  // Fills `out` (complete() must hold), into the strings' capacity when `out` is a recycled
  // event (Watcher::slot()).
  void fill(Event& out) const {
    out.seq = seq_value();
    out.op.assign(op.as_str());
    out.id.assign(id_bytes);
    out.doc.assign(doc_bytes);
    out.ts = ts.as_date();
  }

  bool finish(Event& out) const {
    if (!complete()) return false;
    fill(out);
    return true;
  }
};

using mp_lead::kLead;  // core/msgpack_lead.h
using mp_lead::Lead;

// Fixed-size values (nearly every field of a document): their size by lead byte, 0 otherwise.
constexpr std::array<uint8_t, 256> make_fixed_table() {
  std::array<uint8_t, 256> t{};
  for (int b = 0; b < 256; ++b) t[b] = kLead[b].kind == Lead::Fixed ? kLead[b].size : 0;
  return t;
}

constexpr std::array<uint8_t, 256> kFixedSize = make_fixed_table();

uint64_t read_be(const uint8_t* p, int bytes) {
  if (bytes == 1) return p[0];
  if (bytes == 2) return uint64_t(p[0]) << 8 | p[1];
  return uint64_t(p[0]) << 24 | uint64_t(p[1]) << 16 | uint64_t(p[2]) << 8 | p[3];
}

// The end of the MessagePack value at `p` and of everything nested in it, when all of it lies
// before `end` and is well-formed; nullptr otherwise. Nothing at or past `end` is read. The same
// structural check as check_structure (core/msgpack.h), in one tight loop: a fixed-size value
// costs one table load, and whether it fits is known at the next value's bounds check (or at
// the end of the walk).
inline const uint8_t* skip_checked(const uint8_t* p, const uint8_t* end) {
  const size_t n = size_t(end - p);
  size_t i = 0;
  uint64_t pending = 1;  // values still to pass over
  do {
    if (i >= n) return nullptr;
    --pending;
    if (uint8_t size = kFixedSize[p[i]]) {
      i += size;
      continue;
    }
    const Lead lead = kLead[p[i]];
    size_t left = n - i;
    if (lead.kind == Lead::Bad || left < lead.size) return nullptr;
    if (lead.kind == Lead::Sized) {
      uint64_t size = lead.size + read_be(p + i + 1, lead.len_bytes);
      if (left < size) return nullptr;
      i += size;
    } else {  // a container: its items are values still to pass over
      uint64_t count = lead.len_bytes ? read_be(p + i + 1, lead.len_bytes) : (p[i] & 0x0f);
      pending += lead.kind == Lead::Map ? 2 * count : count;
      if (pending > left) return nullptr;  // each takes at least one byte
      i += lead.size;
    }
  } while (pending > 0);
  return i <= n ? p + i : nullptr;
}

// Finds the fields of a live event straight in the SUB socket's bytes. Each top-level key and
// value is passed over once with a bounds-checked walk (skip_checked), so a truncated or
// malformed message is refused and never read out of bounds, and the document handed over is
// well-formed MessagePack. The daemon's own limits (names, depth) are not checked again: the
// client only reads the fields above and hands the document over as bytes.
bool find_live_fields(std::string_view bytes, EventFields& f) {
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  if (p == end) return false;
  Lead lead = kLead[*p];
  if (lead.kind != Lead::Map || size_t(end - p) < lead.size) return false;
  uint64_t n = lead.len_bytes ? read_be(p + 1, lead.len_bytes) : (*p & 0x0f);
  p += lead.size;
  for (; n > 0; --n) {
    const uint8_t* key = p;
    const uint8_t* value = skip_checked(key, end);
    if (!value) return false;
    p = skip_checked(value, end);
    if (!p) return false;
    f.file(MpView(key), value, p);
  }
  return p == end && f.complete();
}

}  // namespace

Event& EventRing::push() {
  if (size_ == slots_.size()) {  // full: double, oldest first
    std::vector<Event> bigger(std::max<size_t>(64, 2 * slots_.size()));
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
  }
  Event& e = (*this)[size_];
  ++size_;
  return e;
}

void EventRing::pop_front() {
  head_ = (head_ + 1) & (slots_.size() - 1);
  if (--size_ == 0 && slots_.size() > kKeep) clear();
}

void EventRing::clear() {
  if (slots_.size() > kKeep) std::vector<Event>().swap(slots_);
  head_ = size_ = 0;
}

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

namespace {

// `opts`, once it is known to ask for nothing a direct Watcher cannot do (before the Client for
// `changes` is made from it).
const WatchOptions& checked(const WatchOptions& opts) {
  if (opts.direct && (opts.client.curve || opts.configure_sub))
    throw Error(2, "BadValue", "a direct Watcher has no CURVE and no socket options");
  return opts;
}

}  // namespace

Watcher::Watcher(std::string req_endpoint, std::string pub_endpoint, std::string db,
                 std::string model, uint64_t after, WatchOptions opts)
    : client_(std::move(req_endpoint), checked(opts).client),
      db_(std::move(db)),
      model_(std::move(model)),
      topic_(db_ + "." + model_),
      opts_(std::move(opts)),
      pub_endpoint_(std::move(pub_endpoint)) {
  if (opts_.direct) {
    connect_direct(opts_.client.timeout_ms);  // subscribed before any history is read
    reset(after);
    return;
  }
  zmq::context_t* ctx = opts_.client.context;
  if (!ctx) ctx = &own_context_.emplace(1);
  // An XSUB: the daemon's XPUB filters by topic before sending, and take_live() checks the
  // exact topic; a SUB would match every message against its subscriptions once more.
  sub_ = zmq::socket_t(*ctx, zmq::socket_type::xsub);
  sub_.set(zmq::sockopt::linger, 0);
  sub_.set(zmq::sockopt::rcvhwm, std::max(opts_.sub_hwm, 0));
  if (opts_.client.curve) apply_curve(sub_, *opts_.client.curve);
  if (opts_.configure_sub) opts_.configure_sub(sub_);
  // Before any history is read. XSUB keeps the subscription and sends it to the daemon on
  // every (re)connection, as a SUB does.
  std::string subscribe = '\x01' + topic_;
  sub_.send(zmq::buffer(subscribe), zmq::send_flags::dontwait);
  try {
    sub_.connect(pub_endpoint_);
  } catch (const zmq::error_t& e) {
    throw Error(2, "BadValue", "cannot connect to '" + pub_endpoint_ + "': " + e.what());
  }
  reset(after);
}

// A new SUB connection, subscribed the way libzmq's SUB subscribes (zmtp.h); replaces the
// current one only when it succeeds.
void Watcher::connect_direct(int timeout_ms) {
  auto conn = std::make_unique<ZmtpConnection>(pub_endpoint_, timeout_ms, "SUB");
  conn->send('\x01' + topic_, timeout_ms);
  direct_ = std::move(conn);
}

Watcher::~Watcher() = default;

void Watcher::reset(uint64_t after) {
  ready_.clear();
  ahead_.clear();
  from_now_ = after == kNow;
  last_ = known_ = from_now_ ? 0 : after;
  synced_ = false;
  restart_idle_ = false;
  check_at_ = Clock::now() + opts_.idle_check;
}

std::optional<Event> Watcher::next(std::chrono::milliseconds timeout) {
  std::optional<Event> e(std::in_place);
  if (!next(*e, timeout)) e.reset();
  return e;
}

bool Watcher::next(Event& out, std::chrono::milliseconds timeout) {
  // The clock is read only once nothing is ready: delivering a buffered event reads no clock.
  std::optional<Clock::time_point> deadline;
  const bool check_each_call = opts_.idle_check.count() <= 0;
  bool checked = false;
  for (;;) {
    receive_live();
    if (!synced_) catch_up();  // first: history (or the current seq) before anything live
    if (!ready_.empty()) {
      // `out`'s old strings go back with the slot, to be filled again (no allocation).
      Event& e = ready_.front();
      out.seq = e.seq, out.ts = e.ts;
      out.op.swap(e.op), out.id.swap(e.id), out.doc.swap(e.doc);
      ready_.pop_front();
      last_ = out.seq;
      ++stats_.delivered;
      restart_idle_ = true;
      return true;
    }
    if (known_ > tail()) {  // a gap: fetch what the SUB socket did not bring
      catch_up();
      continue;
    }
    auto now = Clock::now();
    if (!deadline) deadline = now + timeout;
    if (restart_idle_) {  // the silence starts now, with nothing left to deliver
      restart_idle_ = false;
      check_at_ = now + opts_.idle_check;
    }
    auto check = check_each_call ? *deadline : check_at_;
    if (now >= check && !checked) {  // silent for a while: were the last events dropped?
      checked = check_each_call;
      catch_up();
      check_at_ = Clock::now() + opts_.idle_check;
      continue;
    }
    if (now >= *deadline) return false;
    if (wait_live(std::min(*deadline, check)) == Wait::Interrupted)
      return false;  // a signal: let the caller look at it
  }
}

// Reads what the SUB socket has queued, but only a little ahead of the consumer: events wait in
// ZeroMQ's queue (or the kernel's, direct) rather than in ready_ (less memory, warm caches).
// Behind a gap (ready_ stays empty) it reads everything queued into ahead_, up to max_buffered,
// so that the PUB side does not drop more while the hole is fetched. An event is built once,
// where it is kept (slot()).
void Watcher::receive_live() {
  if (direct_ && direct_->broken() && Clock::now() >= reconnect_at_) {
    reconnect_at_ = Clock::now() + kReconnectEvery;
    try {
      connect_direct(std::min(opts_.client.timeout_ms, 1000));
    } catch (const Error&) {  // still lost: tried again later; `changes` fills the hole
    }
  }
  std::string_view topic, body;
  bool whole = false;
  while (ready_.size() < kReadAhead && ready_.size() + ahead_.size() < opts_.max_buffered &&
         next_live(topic, body, whole)) {
    if (whole)
      take_live(topic, body);
    else
      ++stats_.malformed;
  }
}

bool Watcher::next_live(std::string_view& topic, std::string_view& body, bool& whole) {
  if (direct_) return next_direct(topic, body, whole);
  try {
    if (!sub_.recv(topic_msg_, zmq::recv_flags::dontwait)) return false;
    whole = topic_msg_.more();
    if (whole) {
      (void)sub_.recv(body_msg_);  // the rest of a multipart message is already queued
      while (body_msg_.more()) (void)sub_.recv(body_msg_), whole = false;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
  topic = std::string_view(topic_msg_.data<char>(), topic_msg_.size());
  body = std::string_view(body_msg_.data<char>(), body_msg_.size());
  return true;
}

// Messages parsed in place in the connection's buffer; one recv() when none is whole.
bool Watcher::next_direct(std::string_view& topic, std::string_view& body, bool& whole) {
  try {
    for (;;) {
      if (direct_->next_message(frames_)) {
        whole = frames_.size() == 2;
        topic = frames_.front(), body = frames_.back();
        return true;
      }
      bool drained;
      if (direct_->fill(drained) == 0) return false;
    }
  } catch (const Error&) {  // answering a PING failed: the connection is lost (broken())
    return false;
  }
}

void Watcher::take_live(std::string_view topic, std::string_view body) {
  if (topic != topic_) return;  // ZeroMQ matched a prefix: "db.Model" also brings "db.ModelX"
  EventFields f;
  if (!find_live_fields(body, f)) {
    ++stats_.malformed;
    return;
  }
  ++stats_.live;
  uint64_t seq = f.seq_value();
  if (synced_ && seq > std::max(known_, tail()) + 1) ++stats_.gaps;
  known_ = std::max(known_, seq);
  if (Event* e = slot(seq)) {
    f.fill(*e);
    settle();
  }
}

Watcher::Wait Watcher::wait_live(Clock::time_point until) {
  auto now = Clock::now();
  if (direct_) {
    bool lost = direct_->broken();  // wait for the next reconnection at most
    if (lost) until = std::min(until, reconnect_at_);
    auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    pollfd p{direct_->fd(), POLLIN, 0};
    int n = ::poll(&p, lost ? 0 : 1, int(std::max<int64_t>(left.count(), 0)));
    if (n < 0) return errno == EINTR ? Wait::Interrupted : Wait::Timeout;
    return n > 0 ? Wait::Ready : Wait::Timeout;
  }
  auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
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

Event* Watcher::slot(uint64_t seq) {
  uint64_t t = tail();
  if (seq <= t) {
    ++stats_.duplicates;
    return nullptr;
  }
  if (seq == t + 1) return &ready_.push();  // a recycled slot: filled by assign
  auto [it, added] = ahead_.try_emplace(seq);
  if (!added) {
    ++stats_.duplicates;
    return nullptr;
  }
  return &it->second;
}

void Watcher::take(Event e) {
  if (Event* to = slot(e.seq)) {
    *to = std::move(e);
    settle();
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
      ready_.push() = std::move(it->second);
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
  for (size_t i = 0; i < ready_.size(); ++i) {
    uint64_t seq = ready_[i].seq;
    ahead_.emplace(seq, std::move(ready_[i]));
  }
  ready_.clear();
  settle();
}

}  // namespace mg::client
