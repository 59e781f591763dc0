// actors/migrate.cc — see migrate.h.
#include "actors/migrate.h"

#include <algorithm>
#include <cstdio>

#include "core/compare.h"
#include "core/ejson.h"
#include "core/msgpack.h"
#include "protocol/reply.h"

namespace mg {

MigratePage read_page(Collection& c, std::string_view after_id, size_t limit) {
  MigratePage page;
  page.exists = true;
  page.schema = c.schema().encoded();
  if (limit == 0) return page;
  std::string sort("\x81\xa3_id\x01", 6);  // {_id: 1}
  MpView after = after_id.empty() ? MpView() : MpView(after_id);
  auto is_after = [&](const DocRef& d) {
    return !after.valid() || compare_values(d.view().get("_id"), after) > 0;
  };
  // A probe (stopping at the first document) tells whether the scan runs in _id order
  // through the _id index; then the page scan can stop once the page is full.
  bool sorted = false;
  Status s = c.scan(
      MpView(), MpView(sort), [](const DocRef&) { return false; }, &sorted);
  std::vector<DocRef> all;
  if (s.ok())
    s = c.scan(
        MpView(), MpView(sort),
        [&](const DocRef& d) {
          if (!is_after(d)) return true;
          all.push_back(d);
          // In _id order (through the _id index): stop once the page is full.
          return !(sorted && all.size() >= limit);
        },
        nullptr);
  if (!s.ok()) {
    page.error = s.message;
    return page;
  }
  auto by_id = [](const DocRef& a, const DocRef& b) {
    return compare_values(a.view().get("_id"), b.view().get("_id")) < 0;
  };
  if (!sorted) std::sort(all.begin(), all.end(), by_id);
  if (all.size() > limit) all.resize(limit);
  page.docs = std::move(all);
  return page;
}

namespace {
uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

void ContentChecksum::add(std::string_view doc) {
  std::string canon = json_from_mp(doc);
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char ch : canon) h = (h ^ ch) * 0x100000001b3ULL;
  h = mix(h);
  ++count;
  sum += h;
  xr ^= mix(h + 0x9e3779b97f4a7c15ULL);
}

std::string ContentChecksum::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(sum),
                static_cast<unsigned long long>(xr));
  return buf;
}

namespace {

struct MigrateState {
  MigrateRequest req;
  std::shared_ptr<ReplySink> sink;
  Route route;
  ContentChecksum src, dst;
  uint64_t batches = 0;
  static inline const char* name = "migrate";
};
using Self = caf::stateful_actor<MigrateState>*;

void finish(Self self, std::string reply) {
  self->state.sink->reply(self->state.route, std::move(reply));
  self->quit();
}

void fail_with(Self self, const Status& s) {
  finish(self, error_reply(self->state.req.reply_id, s));
}

std::string ns(const std::string& db, const std::string& model) {
  return db + "." + model;
}

// A request body for the destination's actor.
std::string body(const MigrateRequest& r, std::string_view op) {
  std::string out;
  MpWriter w(out);
  w.map_header(3);
  w.str("op"), w.str(op);
  w.str("db"), w.str(r.dst_db);
  w.str("model"), w.str(r.dst_model);
  return out;
}
std::string with_field(std::string b, std::string_view key, std::string_view encoded) {
  // Bump the map header (fixmap: at most 15 keys here) and append one field.
  b[0] = char(uint8_t(b[0]) + 1);
  MpWriter w(b);
  w.str(key);
  w.raw(MpView(encoded));
  return b;
}

// Calls `then(reply)` with an ok reply from the destination, or fails with its error.
template <class F>
void call_dst(Self self, std::string req, F then) {
  self->request(self->state.req.dst, caf::infinite, call_atom::value, std::move(req))
      .then(
          [=](const std::string& reply) {
            MpView r(reply);
            if (!r.get("ok").valid() || !r.get("ok").as_bool()) {
              MpView e = r.get("error");
              return fail_with(
                  self, make_status(ErrorCode(e.get("code").as_int()),
                                    "migrate into " +
                                        ns(self->state.req.dst_db, self->state.req.dst_model) +
                                        ": " + std::string(e.get("message").as_str())));
            }
            then(reply);
          },
          [=](caf::error& e) {
            fail_with(self, make_status(ErrorCode::InternalError, to_string(e)));
          });
}

void verify(Self self, std::string after);

void copy(Self self, std::string after) {
  auto& st = self->state;
  self->request(st.req.src, caf::infinite, page_atom::value, after, uint64_t(st.req.batch))
      .then(
          [=](MigratePage& page) {
            auto& st = self->state;
            if (!page.error.empty())
              return fail_with(self, make_status(ErrorCode::StorageError, page.error));
            if (page.docs.empty()) return verify(self, std::string());
            std::string docs;
            MpWriter w(docs);
            w.array_header(uint32_t(page.docs.size()));
            for (auto& d : page.docs) {
              w.raw(d.view());
              st.src.add(d.bytes());
            }
            std::string last(page.docs.back().view().get("_id").bytes());
            st.batches++;
            call_dst(self, with_field(body(st.req, "insertMany"), "docs", docs),
                     [=](const std::string&) { copy(self, last); });
          },
          [=](caf::error& e) {
            fail_with(self, make_status(ErrorCode::InternalError, to_string(e)));
          });
}

void write_side(MpWriter& w, const ContentChecksum& c) {
  w.map_header(2);
  w.str("count"), w.integer(int64_t(c.count));
  w.str("checksum"), w.str(c.hex());
}

void verify(Self self, std::string after) {
  auto& st = self->state;
  self->request(st.req.dst, caf::infinite, page_atom::value, after, uint64_t(st.req.batch))
      .then(
          [=](MigratePage& page) {
            auto& st = self->state;
            if (!page.error.empty())
              return fail_with(self, make_status(ErrorCode::StorageError, page.error));
            for (auto& d : page.docs) st.dst.add(d.bytes());
            if (!page.docs.empty())
              return verify(self, std::string(page.docs.back().view().get("_id").bytes()));
            if (!(st.src == st.dst))
              return fail_with(
                  self,
                  make_status(ErrorCode::BadValue,
                              "migrate " + ns(st.req.src_db, st.req.src_model) + " -> " +
                                  ns(st.req.dst_db, st.req.dst_model) +
                                  ": verification failed (source " + std::to_string(st.src.count) +
                                  " documents, checksum " + st.src.hex() + "; destination " +
                                  std::to_string(st.dst.count) + ", checksum " + st.dst.hex() +
                                  "): was either model written to during the migration?"));
            ReplyWriter r(st.req.reply_id, 5);
            r.key("migrated").integer(int64_t(st.src.count));
            r.key("batches").integer(int64_t(st.batches));
            r.key("checksum").str(st.src.hex());
            write_side(r.key("source"), st.src);
            write_side(r.key("destination"), st.dst);
            finish(self, r.take());
          },
          [=](caf::error& e) {
            fail_with(self, make_status(ErrorCode::InternalError, to_string(e)));
          });
}

caf::behavior migrate_behavior(Self self, MigrateRequest req, std::shared_ptr<ReplySink> sink,
                               Route route) {
  auto& st = self->state;
  st.req = std::move(req);
  st.sink = std::move(sink);
  st.route = std::move(route);
  // 1. The source must exist; 2. the destination must be empty.
  self->request(st.req.src, caf::infinite, page_atom::value, std::string(), uint64_t(0))
      .then(
          [=](MigratePage& src) {
            auto& st = self->state;
            if (!src.error.empty())
              return fail_with(self, make_status(ErrorCode::StorageError, src.error));
            if (!src.exists)
              return fail_with(self, make_status(ErrorCode::NamespaceNotFound,
                                                 "model " + ns(st.req.src_db, st.req.src_model) +
                                                     " does not exist"));
            std::string schema = src.schema;
            self->request(st.req.dst, caf::infinite, info_atom::value)
                .then(
                    [=](const std::string& info) {
                      auto& st = self->state;
                      if (!info.empty() && MpView(info).get("count").as_int() > 0)
                        return fail_with(
                            self,
                            make_status(ErrorCode::BadValue,
                                        "migrate: the destination " +
                                            ns(st.req.dst_db, st.req.dst_model) +
                                            " exists and holds " +
                                            std::to_string(MpView(info).get("count").as_int()) +
                                            " documents (drop it, or choose another)"));
                      call_dst(self, with_field(body(st.req, "defineModel"), "schema", schema),
                               [=](const std::string&) { copy(self, std::string()); });
                    },
                    [=](caf::error& e) {
                      fail_with(self, make_status(ErrorCode::InternalError, to_string(e)));
                    });
          },
          [=](caf::error& e) {
            fail_with(self, make_status(ErrorCode::InternalError, to_string(e)));
          });
  return {[](caf::unit_t) {}};
}

}  // namespace

void start_migration(caf::actor_system& sys, MigrateRequest req, std::shared_ptr<ReplySink> sink,
                     Route route) {
  sys.spawn(migrate_behavior, std::move(req), std::move(sink), std::move(route));
}

}  // namespace mg
