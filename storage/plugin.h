// storage/plugin.h — custom storage strategies loaded from shared objects.
//
// A storage kind (engine.h) is either compiled into memgoosed (listed in storage_kinds()) or
// built as a shared object and named in the daemon's config (`[[plugins]] path = "..."`, or
// `--plugin PATH`). A plugin defines its StorageKind and exports it with one line:
//
//   #include "storage/plugin.h"
//   mg::StorageKind redis_kind();                  // name "redis", normalize, open
//   MEMGOOSE_STORAGE_PLUGIN(redis_kind)
//
// which defines two C entry points, found by dlsym:
//   extern "C" const mg::StoragePluginAbi* memgoose_storage_abi();   // checked first
//   extern "C" const mg::StorageKind* memgoose_storage_kind();      // then registered
// The StorageKind crosses the boundary as a C++ object (std::string, std::function), and the
// plugin calls the daemon's own code (Status, MpView, for_each_option, ...: memgoosed exports
// its symbols), so a plugin must be built from the same headers with a compatible compiler.
// The ABI record catches a mismatch before anything is called: the version below is bumped
// whenever storage_strategy.h, engine.h or the core types they use change incompatibly, and
// the sizes of the types that cross guard against a forgotten bump. docs/STORAGE.md
// ("Custom storage strategies") walks through writing one; examples/redis-storage is one.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "storage/engine.h"
#include "storage/storage_strategy.h"

namespace mg {

// Bump on any incompatible change to the plugin API (storage_strategy.h, engine.h, the core
// types they expose). 2: StorageStrategy::apply_and_commit (a new virtual: the vtable moved)
// and Change::ref.
constexpr uint32_t kStoragePluginAbiVersion = 2;

// What a plugin was compiled against; compared field by field with the daemon's own.
struct StoragePluginAbi {
  uint32_t version;
  uint32_t cxx11_abi;  // libstdc++'s _GLIBCXX_USE_CXX11_ABI (std::string layout)
  uint32_t sizeof_kind, sizeof_change, sizeof_status, sizeof_stats, sizeof_index_spec;
};

constexpr StoragePluginAbi storage_plugin_abi() {
  return StoragePluginAbi{kStoragePluginAbiVersion,
#ifdef _GLIBCXX_USE_CXX11_ABI
                          uint32_t(_GLIBCXX_USE_CXX11_ABI),
#else
                          0u,
#endif
                          uint32_t(sizeof(StorageKind)),    uint32_t(sizeof(Change)),
                          uint32_t(sizeof(Status)),         uint32_t(sizeof(StorageStats)),
                          uint32_t(sizeof(IndexSpec))};
}

// Loads the shared object at `path`, checks its ABI record and registers its kind
// (register_storage_kind). Returns InvalidOptions with a one-line reason naming `path` when
// the file is missing or not loadable (dlerror's text: a missing library, an undefined
// symbol), lacks the entry points, was built against another ABI, or its kind is refused
// (bad or duplicate name). On success `name` (if given) is the kind's name. Call at start-up,
// before any database opens; not thread-safe. The object stays loaded until exit.
Status load_storage_plugin(const std::string& path, std::string* name = nullptr);

}  // namespace mg

// Defines a plugin's two entry points; `factory` is a function returning mg::StorageKind,
// called once, on the first memgoose_storage_kind() call.
#define MEMGOOSE_STORAGE_PLUGIN(factory)                                        \
  extern "C" __attribute__((visibility("default"))) const mg::StoragePluginAbi* \
  memgoose_storage_abi() {                                                      \
    static constexpr mg::StoragePluginAbi abi = mg::storage_plugin_abi();       \
    return &abi;                                                                \
  }                                                                             \
  extern "C" __attribute__((visibility("default"))) const mg::StorageKind*      \
  memgoose_storage_kind() {                                                     \
    static const mg::StorageKind kind = factory();                              \
    return &kind;                                                               \
  }
