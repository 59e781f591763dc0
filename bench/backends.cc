// bench/backends.cc — storage configurations and shared daemon queries (see backends.h).
#include "bench/backends.h"

#include <algorithm>
#include <stdexcept>

#include "bench/procs.h"

namespace mg::bench {

namespace {

std::vector<std::string> strings_of(MpView arr) {
  std::vector<std::string> out;
  if (!arr.valid() || arr.type() != MpType::Array) return out;
  ArrayIter it(arr);
  for (MpView v; it.next(v);)
    if (v.type() == MpType::Str) out.emplace_back(v.as_str());
  return out;
}

int64_t int_of(MpView m, std::string_view key) {
  MpView v = m.get(key);
  return v.valid() && v.type() == MpType::Int ? v.as_int() : 0;
}

}  // namespace

std::string string_option(const char* key, const std::string& value) {
  std::string out;
  MpWriter w(out);
  w.map_header(1), w.str(key), w.str(value);
  return out;
}

const std::vector<Backend>& known_backends() {
  static const std::vector<Backend> all = {
      {"memory", "memory", "", false},
      {"file_debounced", "file", string_option("persistMode", "debounced"), true},
      {"file_immediate", "file", string_option("persistMode", "immediate"), true},
      {"sqlite", "sqlite", "", true},
      {"wiredtiger", "wiredtiger", "", true},
  };
  return all;
}

bool Hello::has_storage(const std::string& s) const {
  return std::find(storages.begin(), storages.end(), s) != storages.end();
}

bool Hello::has_compressor(const std::string& c) const {
  return std::find(compressors.begin(), compressors.end(), c) != compressors.end();
}

Hello hello_of(client::Client& c) {
  client::Reply r = c.hello();
  return Hello{strings_of(r.get("storages")), strings_of(r.get("compressors"))};
}

Hello hello_of_daemon(const std::string& memgoosed) {
  Daemon d(memgoosed);
  client::Client c(d.endpoint());
  Hello h = hello_of(c);
  d.stop();
  return h;
}

Hello selected(Hello h, const std::vector<std::string>& only) {
  if (!only.empty())
    std::erase_if(h.storages, [&](const std::string& s) {
      return std::find(only.begin(), only.end(), s) == only.end();
    });
  return h;
}

std::vector<Backend> backends_listed(const Hello& h) {
  std::vector<Backend> out;
  for (auto& b : known_backends())
    if (h.has_storage(b.storage)) out.push_back(b);
  for (auto& s : h.storages) {
    bool known = std::any_of(known_backends().begin(), known_backends().end(),
                             [&](const Backend& b) { return b.storage == s; });
    if (!known) out.push_back({s, s, "", s != "memory"});
  }
  return out;
}

ModelStats model_stats(client::Client& c, const std::string& db, const std::string& model) {
  client::Reply r = c.stats();
  MpView dbs = r.get("databases");
  if (dbs.valid() && dbs.type() == MpType::Array) {
    ArrayIter di(dbs);
    for (MpView d; di.next(d);) {
      MpView name = d.get("name");
      if (!name.valid() || name.type() != MpType::Str || name.as_str() != db) continue;
      MpView models = d.get("models");
      if (!models.valid() || models.type() != MpType::Array) break;
      ArrayIter mi(models);
      for (MpView m; mi.next(m);) {
        MpView n = m.get("name");
        if (n.valid() && n.type() == MpType::Str && n.as_str() == model)
          return {int_of(m, "count"), int_of(m, "docBytes"), int_of(m, "storageBytes"),
                  int_of(m, "commits")};
      }
    }
  }
  throw std::runtime_error("stats has no model " + db + "." + model);
}

}  // namespace mg::bench
