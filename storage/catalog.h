// storage/catalog.h — a persistent database's own description, kept beside its data so a
// restart needs no client to redefine anything (CONTRACT.md §8).
//
// File: <data-dir>/<db>/memgoose.catalog.json (no model file can have this name: model names
// contain no '.'). One JSON object, Extended JSON for values:
//   {"format": 1, "name": "app", "storage": "file",
//    "options": {"persistMode": "debounced", "debounceMs": 100, ...},
//    "models": [{"name": "User", "schema": {"fields": {...}}}, ...]}
// It is replaced atomically: written to memgoose.catalog.json.tmp, fsynced, renamed over the
// old file, and the directory fsynced, so a crash leaves either the old or the new catalog.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace mg {

struct CatalogModel {
  std::string name;
  std::string schema;  // encoded MessagePack map
};

struct Catalog {
  std::string name, storage;
  std::string options;  // encoded MessagePack map
  std::vector<CatalogModel> models;
};

constexpr const char* kCatalogFile = "memgoose.catalog.json";

// Writes `c` to dir/kCatalogFile atomically. StorageError naming the file on failure.
Status write_catalog(const std::string& dir, const Catalog& c);
// Reads dir/kCatalogFile. StorageError naming the file and the problem.
Result<Catalog> read_catalog(const std::string& dir);
bool has_catalog(const std::string& dir);

// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of the directory).
Status write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace mg
