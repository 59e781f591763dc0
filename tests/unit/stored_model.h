// tests/unit/stored_model.h — what the storage backends' unit tests share: a temporary
// directory, and a Collection over one StorageStrategy with helpers to write and read back.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/collection.h"
#include "core/ejson.h"

namespace mg::testing {

// A directory under /tmp, removed with everything in it at the end of the test.
struct TmpDir {
  std::string path;
  explicit TmpDir(const char* prefix = "mg_test") {
    std::string tmpl = std::string("/tmp/") + prefix + "_XXXXXX";
    BOOST_REQUIRE(mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~TmpDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

// A Collection of model "M" over `Storage`; `raw` keeps a view of the strategy.
template <class Storage>
struct StoredModel {
  Storage* raw = nullptr;
  std::unique_ptr<Collection> c;
  std::vector<ChangeEvent> events;

  StoredModel(std::unique_ptr<Storage> st, const char* schema_json) {
    raw = st.get();
    c = std::make_unique<Collection>("M", std::move(st));
    std::string schema = mp_from_json(schema_json);
    Status s = c->open(MpView(schema));
    BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
  }
  // insertMany of the documents given as JSON.
  template <class Docs>
  void insert(const Docs& docs) {
    std::vector<std::string> enc;
    for (auto& d : docs) enc.push_back(mp_from_json(d));
    std::vector<std::string_view> views(enc.begin(), enc.end());
    auto r = c->insert_many(views, &events);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().message);
  }
  void insert(std::initializer_list<const char*> docs) { insert<>(docs); }
  void commit() {
    Status s = c->storage().commit();
    BOOST_REQUIRE_MESSAGE(s.ok(), s.message);
  }
  // Every document's bytes, sorted (storage order is not insertion order after replaces).
  std::vector<std::string> all() {
    auto r = c->find(FindSpec{});
    BOOST_REQUIRE(r.ok());
    std::vector<std::string> out;
    for (auto& d : r.value()) out.emplace_back(d.bytes());
    std::sort(out.begin(), out.end());
    return out;
  }
  // The document with this _id (given as JSON), or "" when there is none.
  std::string by_id(const char* id_json) {
    std::string id = mp_from_json(id_json);
    auto r = c->find_by_id(MpView(id));
    BOOST_REQUIRE(r.ok());
    return r.value() ? std::string(r.value().bytes()) : std::string();
  }
};

}  // namespace mg::testing
