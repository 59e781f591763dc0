// examples/redis-storage/redis_storage.cc — the `redis` storage kind: a memgoosed plugin that
// keeps each model's documents in Redis, through hiredis. It mirrors the seed's
// RedisStorageStrategy (memgoose-storage-guide.md, "Custom Storage Strategies"): one Redis
// string per document under `<keyPrefix>:<id>`, the document as JSON; getAll is a scan of
// `<keyPrefix>:*`; insert and update are SET, delete is DEL, clear deletes every key.
//
// Key layout, for database `app`, model `User`, option prefix "memgoose" (the default):
//
//   memgoose:app:User:"65f1c0de8a1b2c3d4e000001"   {"_id":"65f1c0de8a1b2c3d4e000001","age":36}
//   memgoose:app:User:5                            {"_id":5,"name":"int id"}
//   memgoose:app:User#seq                          "1042"  (last change-stream seq applied)
//
// <keyPrefix> is `<prefix>:<db>:<Model>`. The id part is the `_id` as Extended JSON text, so
// the int 5 and the string "5" are different keys, as they are different ids. Values are
// Extended JSON (core/ejson.h: dates as {"$date": "..."}, binaries as {"$binary": "..."}),
// so every type round-trips and `redis-cli GET` shows a readable document. Database and model
// names cannot contain ':' or '#' (CONTRACT.md §4), so no two models' keys overlap; the
// `#seq` key does not match `<keyPrefix>:*`.
//
// Transactions: each apply() is one MULTI ... EXEC (the documents' SET/DEL and the #seq SET),
// sent as one pipeline: all or nothing. Durability is Redis' own (its appendonly/appendfsync
// settings); commit() and flush() have nothing to add. Loading is SCAN + MGET, in no
// particular order (SCAN may repeat a key: duplicates are skipped).
//
// Options (createDatabase {storage: "redis", options}):
//   url     "redis://127.0.0.1:6379" (default); "redis://host:port/N" selects database N
//   prefix  "memgoose" (default): the first part of every key
#include <hiredis/hiredis.h>

#include <cstdio>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/ejson.h"
#include "storage/plugin.h"

namespace {

using mg::Change;
using mg::ErrorCode;
using mg::MpType;
using mg::MpView;
using mg::Status;

constexpr const char* kDefaultUrl = "redis://127.0.0.1:6379";
constexpr const char* kDefaultPrefix = "memgoose";

struct RedisUrl {
  std::string host;
  int port = 6379;
  int db = 0;
};

// "redis://host[:port][/db]"; false when malformed.
bool parse_url(const std::string& url, RedisUrl& out) {
  const std::string scheme = "redis://";
  if (url.compare(0, scheme.size(), scheme) != 0) return false;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      if (db.find_first_not_of("0123456789") != std::string::npos || db.size() > 4) return false;
      out.db = std::stoi(db);
    }
  }
  size_t colon = hostport.rfind(':');
  out.host = hostport.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = hostport.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
      return false;
    out.port = std::stoi(port);
    if (out.port <= 0 || out.port > 65535) return false;
  }
  return !out.host.empty();
}

// A SCAN MATCH pattern matching `text` literally.
std::string glob_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

// One model's documents in Redis (StorageStrategy contracts in storage/storage_strategy.h).
class RedisStorage final : public mg::StorageStrategy {
 public:
  RedisStorage(RedisUrl url, std::string key_prefix)
      : url_(std::move(url)), prefix_(std::move(key_prefix)), seq_key_(prefix_ + "#seq") {}

  Status open(const std::function<Status(std::string_view)>& sink) override {
    Status s = connect();
    if (!s.ok()) return s;
    Reply seq;
    if (s = command(seq, {"GET", seq_key_}); !s.ok()) return s;
    if (seq->type == REDIS_REPLY_STRING) last_seq_ = std::strtoull(seq->str, nullptr, 10);
    return scan([&](const std::vector<std::string>& keys) { return load(keys, sink); });
  }

  uint64_t last_seq() const override { return last_seq_; }

  // Connects and sends PING: whether the server is usable, before any model opens.
  Status ping() {
    Status s = connect();
    Reply r;
    return s.ok() ? command(r, {"PING"}) : s;
  }

  Status apply(std::span<const Change> changes) override {
    if (changes.empty()) return {};
    Status s = connect();
    if (!s.ok()) return s;
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"MULTI"});
    for (const Change& ch : changes) {
      switch (ch.op) {
        case Change::Op::Insert:
        case Change::Op::Replace:
          cmds.push_back({"SET", doc_key(ch.id), to_json(ch.doc)});
          break;
        case Change::Op::Delete:
          cmds.push_back({"DEL", doc_key(ch.id)});
          break;
        case Change::Op::Clear:
          s = scan([&](const std::vector<std::string>& keys) {
            std::vector<std::string> del{"DEL"};
            del.insert(del.end(), keys.begin(), keys.end());
            cmds.push_back(std::move(del));
            return Status::OK();
          });
          if (!s.ok()) return s;
          break;
      }
    }
    cmds.push_back({"SET", seq_key_, std::to_string(changes.back().seq)});
    cmds.push_back({"EXEC"});
    if (s = pipeline(cmds); !s.ok()) return s;
    last_seq_ = changes.back().seq;
    return {};
  }

  Status commit() override {
    ++commits_;
    return {};
  }
  Status flush() override { return {}; }
  void close() override { ctx_.reset(); }

  Status destroy() override {
    Status s = connect();
    if (s.ok())
      s = scan([&](const std::vector<std::string>& keys) {
        std::vector<std::string> del{"DEL"};
        del.insert(del.end(), keys.begin(), keys.end());
        Reply r;
        return command(r, del);
      });
    Reply r;
    if (s.ok()) s = command(r, {"DEL", seq_key_});
    close();
    return s;
  }

  mg::StorageStats stats() const override {
    mg::StorageStats st;
    st.commits = commits_;
    return st;
  }

 private:
  Status error(const std::string& what) const {
    return mg::make_status(
        ErrorCode::StorageError,
        "redis " + url_.host + ":" + std::to_string(url_.port) + " (" + prefix_ + "): " + what);
  }

  Status connect() {
    if (ctx_) return {};
    timeval connect_timeout{2, 0}, io_timeout{10, 0};
    ctx_.reset(redisConnectWithTimeout(url_.host.c_str(), url_.port, connect_timeout));
    if (!ctx_ || ctx_->err) {
      std::string why = ctx_ ? ctx_->errstr : "out of memory";
      ctx_.reset();
      return error("cannot connect: " + why);
    }
    redisSetTimeout(ctx_.get(), io_timeout);
    if (url_.db != 0) {
      Reply r;
      Status s = command(r, {"SELECT", std::to_string(url_.db)});
      if (!s.ok()) return s;
    }
    return {};
  }

  // Runs one command; a transport failure drops the connection (the next call reconnects).
  Status command(Reply& out, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) argv.push_back(a.data()), lens.push_back(a.size());
    out.reset(static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), int(argv.size()), argv.data(), lens.data())));
    if (!out) return transport_error(args[0]);
    if (out->type == REDIS_REPLY_ERROR) return error(args[0] + ": " + out->str);
    return {};
  }

  Status transport_error(const std::string& cmd) {
    std::string why = ctx_->err ? ctx_->errstr : "no reply";
    ctx_.reset();
    return error(cmd + ": " + why);
  }

  // Sends every command, then reads every reply; the last one is EXEC's, which must be an
  // array (the transaction ran) rather than an error or nil (it was refused or aborted).
  Status pipeline(const std::vector<std::vector<std::string>>& cmds) {
    for (auto& args : cmds) {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (auto& a : args) argv.push_back(a.data()), lens.push_back(a.size());
      if (redisAppendCommandArgv(ctx_.get(), int(argv.size()), argv.data(), lens.data()) !=
          REDIS_OK)
        return transport_error(args[0]);
    }
    std::string refused;
    for (size_t i = 0; i < cmds.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) return transport_error(cmds[i][0]);
      Reply r(static_cast<redisReply*>(raw));
      if (r->type == REDIS_REPLY_ERROR && refused.empty()) refused = cmds[i][0] + ": " + r->str;
      if (i + 1 == cmds.size() && r->type != REDIS_REPLY_ARRAY && refused.empty())
        refused = "EXEC: transaction aborted";
    }
    return refused.empty() ? Status::OK() : error(refused);
  }

  // Calls fn with each batch of the model's document keys (each key once).
  Status scan(const std::function<Status(const std::vector<std::string>&)>& fn) {
    std::string cursor = "0", pattern = glob_escape(prefix_) + ":*";
    std::unordered_set<std::string> seen;
    do {
      Reply r;
      Status s = command(r, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (!s.ok()) return s;
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) return error("SCAN: bad reply");
      cursor.assign(r->element[0]->str, r->element[0]->len);
      std::vector<std::string> keys;
      for (size_t i = 0; i < r->element[1]->elements; ++i) {
        std::string key(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
        if (seen.insert(key).second) keys.push_back(std::move(key));
      }
      if (!keys.empty())
        if (s = fn(keys); !s.ok()) return s;
    } while (cursor != "0");
    return {};
  }

  Status load(const std::vector<std::string>& keys,
              const std::function<Status(std::string_view)>& sink) {
    std::vector<std::string> mget{"MGET"};
    mget.insert(mget.end(), keys.begin(), keys.end());
    Reply r;
    Status s = command(r, mget);
    if (!s.ok()) return s;
    std::string doc;
    for (size_t i = 0; i < r->elements; ++i) {
      if (r->element[i]->type != REDIS_REPLY_STRING) continue;  // deleted since SCAN
      doc.clear();
      s = mg::ejson_to_msgpack(std::string_view(r->element[i]->str, r->element[i]->len), doc);
      if (!s.ok()) return error("key " + keys[i] + ": " + s.message);
      if (s = sink(doc); !s.ok()) return s;
    }
    return {};
  }

  std::string doc_key(std::string_view id) const { return prefix_ + ":" + to_json(id); }

  static std::string to_json(std::string_view msgpack) {
    std::string out;
    mg::msgpack_to_ejson(MpView(msgpack), out);
    return out;
  }

  const RedisUrl url_;
  const std::string prefix_, seq_key_;
  std::unique_ptr<redisContext, ContextDeleter> ctx_;
  uint64_t last_seq_ = 0, commits_ = 0;
};

class RedisEngine final : public mg::StorageEngine {
 public:
  RedisEngine(RedisUrl url, std::string db_prefix)
      : url_(std::move(url)), db_prefix_(std::move(db_prefix)) {}
  std::unique_ptr<mg::StorageStrategy> make_model(const std::string& name) override {
    return std::make_unique<RedisStorage>(url_, db_prefix_ + ":" + name);
  }

 private:
  const RedisUrl url_;
  const std::string db_prefix_;  // <prefix>:<db>
};

std::string option(MpView options, const char* key, const char* fallback) {
  MpView v = options.valid() && options.type() == MpType::Map ? options.get(key) : MpView();
  return v.valid() && v.type() == MpType::Str ? std::string(v.as_str()) : fallback;
}

mg::Result<std::string> normalize(MpView options) {
  std::string url = kDefaultUrl, prefix = kDefaultPrefix;
  Status s =
      mg::for_each_option(options, "redis", {"url", "prefix"}, [&](std::string_view k, MpView v) {
        RedisUrl parsed;
        if (v.type() != MpType::Str || v.as_str().empty())
          mg::fail(ErrorCode::InvalidOptions,
                   "redis option '" + std::string(k) + "' must be a non-empty string");
        if (k == "url" && !parse_url(std::string(v.as_str()), parsed))
          mg::fail(ErrorCode::InvalidOptions,
                   "redis option 'url' must look like redis://host[:port][/db]");
        (k == "url" ? url : prefix) = v.as_str();
      });
  if (!s.ok()) return s;
  std::string out;
  mg::MpWriter w(out);
  w.map_header(2);
  w.str("url"), w.str(url);
  w.str("prefix"), w.str(prefix);
  return out;
}

mg::Result<std::shared_ptr<mg::StorageEngine>> open_engine(const std::string& dir, MpView options) {
  RedisUrl url;
  if (!parse_url(option(options, "url", kDefaultUrl), url))
    return mg::make_status(ErrorCode::InvalidOptions, "redis: bad url");
  // The database's name is its directory's (<data-dir>/<db>).
  std::string db = dir.substr(dir.find_last_of('/') + 1);
  std::string prefix = option(options, "prefix", kDefaultPrefix) + ":" + db;
  // Fail at createDatabase (or start-up) rather than at the first write if Redis is away.
  if (Status s = RedisStorage(url, prefix).ping(); !s.ok()) return s;
  return std::shared_ptr<mg::StorageEngine>(std::make_shared<RedisEngine>(url, prefix));
}

mg::StorageKind redis_storage_kind() {
  mg::StorageKind k;
  k.name = "redis";
  k.persistent = true;  // a catalog in <data-dir>/<db>/ brings the database back at start
  k.normalize = normalize;
  k.open = open_engine;
  return k;
}

}  // namespace

MEMGOOSE_STORAGE_PLUGIN(redis_storage_kind)
