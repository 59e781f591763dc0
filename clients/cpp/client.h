// clients/cpp/client.h — the C++ client of memgoosed (CONTRACT.md §2, §3, §5, §6).
//
// Design: one `Client` owns one ZeroMQ DEALER socket (frames: [body]) and is used by one
// thread at a time. Every request is a MessagePack map built by `Request`, which reserves room
// for the envelope header so that the client can stamp its own uint64 `id` into the finished
// body without copying it again. Replies are matched by `id`, never by order: the daemon
// answers requests to different models in parallel.
//
// Two ways to talk:
//  - blocking: `call()` sends one request and waits for its reply; replies to async requests
//    that arrive meanwhile are buffered and handed to their callbacks at the next async call.
//    The typed helpers (`insert_one`, `find`, ...) are one line over `command()`, which is
//    `call()` plus throwing `Error` on `ok: false`.
//  - pipelined: `send_async()` keeps at most `window` requests in flight; when the window is
//    full it waits for replies and runs their callbacks on the calling thread. `drain()` waits
//    for all of them. No thread is started; a reply is received once into a zmq message and
//    that message is what the callback's `Reply` owns.
//
// Every callback runs exactly once, on the calling thread, inside `send_async()` or `drain()`:
// with the server's reply, or with a client-built `ExceededTimeLimit` error reply when none
// came within `timeout_ms` of sending (a late server reply is then dropped). A callback may
// itself call send_async or a blocking method. An exception thrown by a callback propagates
// out of send_async / drain; the replies not yet handed over stay queued for the next call.
// Destroying the client drops the requests still in flight without running their callbacks.
//
// Encoded values: arguments and results that are MessagePack values (documents, filters,
// `_id`s) are passed as their encoded bytes in `std::string` / `std::string_view`; build them
// with `mg::MpWriter` or `mg::mp_from_json` (core/), read them with `mg::MpView`.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "clients/cpp/curve.h"
#include "clients/cpp/zmtp.h"
#include "core/msgpack.h"

namespace mg::client {

// Code and name of the client-side timeout error (MongoDB's ExceededTimeLimit).
inline constexpr int kExceededTimeLimit = 50;

// A failed request: the server's `{code, name, message, ...details}` error map, or a
// client-side failure (timeout, unusable endpoint, malformed reply) in the same shape.
class Error : public std::runtime_error {
 public:
  // `error_map` is the encoded error map; when empty, one is built from the three fields.
  Error(int code, std::string name, std::string message, std::string error_map = {});

  int code() const { return code_; }
  const std::string& name() const { return name_; }
  const std::string& message() const { return message_; }
  // The whole encoded error map, for details such as `keyValue`, `keyPattern`, `index`,
  // `errors`. Always a valid map.
  const std::string& error_map() const { return error_map_; }
  MpView details() const { return MpView(error_map_); }

 private:
  int code_;
  std::string name_;
  std::string message_;
  std::string error_map_;
};

// One reply, owning its bytes (the received ZeroMQ message). Move-only. A default-constructed
// Reply is empty: ok() is false and root() is an invalid view.
class Reply {
 public:
  Reply() = default;
  // Takes a message whose content has been validated as a MessagePack map.
  explicit Reply(zmq::message_t msg) : msg_(std::move(msg)) {}

  std::string_view bytes() const { return {msg_.data<char>(), msg_.size()}; }
  // The reply map `{id, ok, ...}`. Valid as long as this Reply lives.
  MpView root() const { return msg_.size() ? MpView(bytes()) : MpView(); }
  // Shorthand for root().get(key): an invalid view when the key is absent.
  MpView get(std::string_view key) const { return msg_.size() ? root().get(key) : MpView(); }
  // True when the reply says `ok: true`.
  bool ok() const;
  // The `error` map of an `ok: false` reply as an Error (code 1 InternalError if the reply
  // has no well-formed error map).
  Error error() const;
  // Throws error() unless ok().
  void check() const;

 private:
  zmq::message_t msg_;
};

// Builds one request map `{id, op, db?, model?, ...args}`. `db` and `model` are left out when
// empty (the daemon's default database is "default"). Arguments keep the order they are added
// in; adding the same key twice sends it twice (the daemon decides), so don't.
class Request {
 public:
  explicit Request(std::string_view op, std::string_view db = "", std::string_view model = "");

  // A caller-built request map (encoded). Any `id` in it is dropped: the client stamps its
  // own. Throws Error (FailedToParse / BadValue) when `body` is not a well-formed map.
  static Request from_map(std::string_view body);

  // Adds `key` with an already encoded MessagePack value (a document, filter, array, ...).
  // The bytes are copied, not checked: the daemon rejects a bad value.
  Request& arg(std::string_view key, std::string_view encoded);
  Request& arg_int(std::string_view key, int64_t v);
  Request& arg_bool(std::string_view key, bool v);
  Request& arg_str(std::string_view key, std::string_view v);
  Request& arg_double(std::string_view key, double v);
  // Adds `key` with an array of already encoded values (e.g. the docs of insertMany), copied
  // once into the request.
  Request& arg_array(std::string_view key, const std::vector<std::string>& encoded_items);
  // Adds `key` only when `encoded` is not empty (optional filter, sort, projection ...).
  Request& arg_if(std::string_view key, std::string_view encoded);

  const std::string& op() const { return op_; }

  // Stamps `id` and returns the finished body: the map starts at `offset()` of the buffer.
  // Used by Client; the request may not be finished twice.
  std::string& finish(uint64_t id);
  size_t offset() const { return offset_; }

 private:
  void add_key(std::string_view key);
  std::string body_;  // [reserved map header][id slot][op][db?][model?][args...]
  std::string op_;
  uint32_t pairs_ = 0;
  size_t offset_ = 0;
};

struct ClientOptions {
  // How long a request may wait for its reply (and a send for queue room), in milliseconds.
  int timeout_ms = 30000;
  // Most requests in flight at once for send_async (at least 1).
  int window = 64;
  // A ZeroMQ context to share (required for inproc:// endpoints served in-process); when
  // null, the client owns a context with one I/O thread. Must outlive the client.
  zmq::context_t* context = nullptr;
  // Called on the new socket before it connects: the place to set socket options such as
  // CURVE keys (ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY).
  std::function<void(zmq::socket_t&)> configure_socket;
  // Speak to a tcp:// endpoint directly (clients/cpp/zmtp.h): the calling thread sends and
  // receives on the TCP socket itself instead of through a libzmq socket and its I/O thread,
  // which saves two thread hand-offs per request and reply (most of the client's CPU when
  // requests are small). The wire bytes are the same. Unlike a libzmq socket it connects in
  // the constructor (throwing Error ExceededTimeLimit when it cannot) and never reconnects: a
  // send on a lost connection throws, requests in flight time out. Not with CURVE,
  // configure_socket or non-tcp endpoints (Error BadValue).
  bool direct = false;
  // CURVE keys (clients/cpp/curve.h) for a daemon running with CURVE; the client then also
  // watches its handshakes, and a blocking call to a daemon that refused the key throws
  // Error 13 Unauthorized.
  std::optional<CurveKeys> curve;
};

// Code of the error a client raises when the daemon refused its CURVE key (CONTRACT.md §6).
inline constexpr int kUnauthorized = 13;

// Arguments of find / findOne. Encoded maps; empty means "not sent" (an empty filter is sent
// as {} so that every document matches).
struct FindArgs {
  std::string filter;
  std::string sort;
  int64_t skip = 0;   // sent when non-zero
  int64_t limit = 0;  // 0 = no limit; sent when non-zero
  std::string projection;
};

struct FindAndModifyArgs {
  std::string sort;
  std::string projection;
  bool upsert = false;
  bool return_after = false;  // returnDocument: "after" instead of "before"
};

struct UpdateResult {
  int64_t matched = 0;
  int64_t modified = 0;
  std::string upserted_id;  // encoded `_id` of an upserted document; empty when none
};

struct ChangesResult {
  std::vector<std::string> events;  // encoded event maps {seq, op, id, doc, ts}
  int64_t last_seq = 0;
};

class Client {
 public:
  using Callback = std::function<void(Reply)>;

  // Creates a DEALER socket and connects it to `endpoint` (tcp://, ipc://, inproc://).
  // ZeroMQ connects lazily: an unreachable server shows up as timeouts, not here. Throws
  // Error (BadValue) for a malformed endpoint.
  explicit Client(std::string endpoint, ClientOptions opts = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- blocking ----

  // Sends `req` and waits for its reply, which it returns whether ok or not. Throws Error
  // ExceededTimeLimit when no reply comes within timeout_ms (a late reply is dropped).
  Reply call(Request req);
  // Same for a caller-built request map (see Request::from_map).
  Reply call(std::string_view body) { return call(Request::from_map(body)); }
  // call(), then throws the server's Error when the reply is `ok: false`.
  Reply command(Request req);

  // The typed helpers below are command() with the contract's arguments; each throws Error
  // on `ok: false` or timeout. `db` may be empty for the database "default".
  Reply ping();
  Reply hello();
  Reply stats();
  // `options` is an encoded map, or empty for the storage's defaults. Returns `created`.
  bool create_database(std::string_view db, std::string_view storage,
                       std::string_view options = {});
  Reply drop_database(std::string_view db);
  Reply list_databases();  // {databases: [{name, storage, options}]}
  void flush(std::string_view db);
  // `schema` is an encoded map. Returns `created`.
  bool define_model(std::string_view db, std::string_view model, std::string_view schema);
  bool drop_model(std::string_view db, std::string_view model);  // `dropped`
  Reply list_models(std::string_view db);                        // {models: [...]}

  // Returns the encoded insertedId.
  std::string insert_one(std::string_view db, std::string_view model, std::string_view doc);
  // All or nothing; returns the encoded insertedIds in order.
  std::vector<std::string> insert_many(std::string_view db, std::string_view model,
                                       const std::vector<std::string>& docs);
  std::vector<std::string> find(std::string_view db, std::string_view model,
                                const FindArgs& args = {});
  // Uses filter, sort and projection of `args`. Empty when nothing matches.
  std::optional<std::string> find_one(std::string_view db, std::string_view model,
                                      const FindArgs& args = {});
  std::optional<std::string> find_by_id(std::string_view db, std::string_view model,
                                        std::string_view id, std::string_view projection = {});
  int64_t count(std::string_view db, std::string_view model, std::string_view filter = {});
  // Returns the encoded distinct values.
  std::vector<std::string> distinct(std::string_view db, std::string_view model,
                                    std::string_view field, std::string_view filter = {});
  UpdateResult update_one(std::string_view db, std::string_view model, std::string_view filter,
                          std::string_view update, bool upsert = false);
  UpdateResult update_many(std::string_view db, std::string_view model, std::string_view filter,
                           std::string_view update, bool upsert = false);
  UpdateResult replace_one(std::string_view db, std::string_view model, std::string_view filter,
                           std::string_view replacement, bool upsert = false);
  int64_t delete_one(std::string_view db, std::string_view model, std::string_view filter);
  int64_t delete_many(std::string_view db, std::string_view model, std::string_view filter);
  std::optional<std::string> find_one_and_update(std::string_view db, std::string_view model,
                                                 std::string_view filter, std::string_view update,
                                                 const FindAndModifyArgs& args = {});
  std::optional<std::string> find_one_and_delete(std::string_view db, std::string_view model,
                                                 std::string_view filter,
                                                 const FindAndModifyArgs& args = {});
  // `pipeline` is an encoded array of stages.
  std::vector<std::string> aggregate(std::string_view db, std::string_view model,
                                     std::string_view pipeline);
  // Events with seq > after; `limit` 0 lets the daemon choose.
  ChangesResult changes(std::string_view db, std::string_view model, int64_t after,
                        int64_t limit = 0);

  // ---- pipelined ----

  // Sends `req` without waiting; `on_reply` gets its reply later (see the top of this file).
  // Blocks, receiving replies and running callbacks, while `window` requests are in flight.
  // Throws Error ExceededTimeLimit when the request cannot even be queued within timeout_ms.
  void send_async(Request req, Callback on_reply);
  // insertMany of `docs` through send_async.
  void insert_many_async(std::string_view db, std::string_view model,
                         const std::vector<std::string>& docs, Callback on_reply);
  // Returns once every request sent with send_async has had its callback run.
  void drain();
  // Waits until at least one of `clients` has a reply (or a request past its deadline) and runs
  // the callbacks of all that have, like drain() does for one client but with one zmq_poll
  // over all their sockets: the way one thread drives many connections, each with its own
  // requests in flight. Returns at once when none has a request in flight. Every client must be
  // used by the calling thread only; an exception from a callback propagates, the other
  // replies stay queued for the next call.
  static void wait_any(const std::vector<Client*>& clients);
  // Requests sent with send_async whose reply has not arrived yet.
  size_t in_flight() const { return async_.size(); }
  // Replies received for no request still waiting (late after a timeout): dropped.
  uint64_t dropped_replies() const { return dropped_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Callback callback;
    Clock::time_point deadline;
  };

  uint64_t send(Request& req);
  bool receive_until(Clock::time_point deadline);
  bool read_replies();
  zmq_pollitem_t poll_item();
  void route(zmq::message_t msg);
  void wait_async();
  void expire_async(Clock::time_point now);
  void run_callbacks();
  void watch_handshakes(zmq::context_t& ctx);
  void read_handshake_events();

  std::optional<zmq::context_t> own_context_;
  zmq::socket_t socket_;                    // unless direct_
  std::unique_ptr<ZmtpConnection> direct_;  // with ClientOptions::direct
  zmq::socket_t monitor_;  // PAIR receiving socket_'s handshake events (CURVE only)
  std::string refused_;    // why the daemon refused our key; empty while it has not
  std::string endpoint_;
  ClientOptions opts_;
  uint64_t next_id_ = 0;
  uint64_t dropped_ = 0;
  std::map<uint64_t, Pending> async_;  // by id, which is also send order
  std::deque<std::pair<Callback, Reply>> done_;
  std::unordered_map<uint64_t, std::optional<Reply>> waiting_;  // blocking calls
};

}  // namespace mg::client
