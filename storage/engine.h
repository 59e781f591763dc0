// storage/engine.h — storage kinds (memory, file, sqlite, wiredtiger, ...) and the engine a
// database opens with one of them.
//
// A StorageKind is what `createDatabase {storage, options}` names: it checks and completes
// the options (CONTRACT.md §5: unknown keys and bad values are InvalidOptions; the result,
// with defaults filled in, is what "the same config" is compared on) and opens a
// StorageEngine for a database directory. The engine makes one StorageStrategy per model.
//
// This header and storage_strategy.h are the public plugin API. To add a backend, write a
// StorageKind and either list it in storage_kinds() (engine.cc: compiled in) or build it as a
// shared object that memgoosed loads at start (storage/plugin.h: `[[plugins]]` in the config,
// `--plugin PATH`). docs/STORAGE.md, "Custom storage strategies", is the guide.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/msgpack.h"
#include "storage/storage_strategy.h"

namespace mg {

class StorageEngine {
 public:
  virtual ~StorageEngine() = default;
  // A new, not yet opened strategy for model `name`. Called from the model's actor, possibly
  // concurrently for different models: implementations must be thread-safe.
  virtual std::unique_ptr<StorageStrategy> make_model(const std::string& name) = 0;
};

struct StorageKind {
  std::string name;  // what `createDatabase {storage}` names; ^[A-Za-z_][A-Za-z0-9_-]{0,63}$
  // True: each database gets the directory <data-dir>/<db>/ holding its catalog (config,
  // models, schemas), and is reopened from it at start-up. False: gone at restart (memory).
  bool persistent = false;
  // The block compressors this kind can really use here (`hello` lists them), e.g. wiredtiger's
  // {"snappy", "zlib", "zstd", "lz4", "none"} minus any whose extension does not load.
  std::vector<std::string> compressors;
  // The options (a map, or an invalid view for none) with defaults filled in, encoded; or
  // InvalidOptions naming the offending key and what is allowed.
  std::function<Result<std::string>(MpView options)> normalize;
  // Opens the engine over `dir` (<data-dir>/<db>, existing) with normalized options.
  std::function<Result<std::shared_ptr<StorageEngine>>(const std::string& dir, MpView options)>
      open;
};

// Every kind: those compiled in, then those registered, in the order `hello` lists them.
const std::vector<StorageKind>& storage_kinds();
const StorageKind* find_storage_kind(std::string_view name);

// Adds `kind` to storage_kinds() (a plugin's, or one an embedding program defines). Returns
// InvalidOptions when its name is not a valid database-style name
// (^[A-Za-z_][A-Za-z0-9_-]{0,63}$), is taken, or normalize/open is missing. Call at start-up,
// before any database opens: not thread-safe, and references into storage_kinds() taken
// before the call may be invalidated.
Status register_storage_kind(StorageKind kind);

// Helpers for normalize(): walk an options map, refusing unknown keys.
// Calls fn(key, value) for each entry; fn throws Error(InvalidOptions) on a bad value.
Status for_each_option(MpView options, std::string_view kind,
                       const std::vector<std::string_view>& allowed,
                       const std::function<void(std::string_view, MpView)>& fn);

}  // namespace mg
