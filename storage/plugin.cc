// storage/plugin.cc — dlopen a storage plugin, check its ABI record, register its kind
// (contract in plugin.h).
#include "storage/plugin.h"

#include <dlfcn.h>

#include <filesystem>

namespace mg {

namespace {

Status plugin_error(const std::string& path, const std::string& why) {
  return make_status(ErrorCode::InvalidOptions, "storage plugin " + path + ": " + why);
}

std::string describe(const StoragePluginAbi& a) {
  return "abi " + std::to_string(a.version) + ", cxx11 " + std::to_string(a.cxx11_abi) +
         ", sizes kind/change/status/stats/index " + std::to_string(a.sizeof_kind) + "/" +
         std::to_string(a.sizeof_change) + "/" + std::to_string(a.sizeof_status) + "/" +
         std::to_string(a.sizeof_stats) + "/" + std::to_string(a.sizeof_index_spec);
}

bool same_abi(const StoragePluginAbi& a, const StoragePluginAbi& b) {
  return a.version == b.version && a.cxx11_abi == b.cxx11_abi && a.sizeof_kind == b.sizeof_kind &&
         a.sizeof_change == b.sizeof_change && a.sizeof_status == b.sizeof_status &&
         a.sizeof_stats == b.sizeof_stats && a.sizeof_index_spec == b.sizeof_index_spec;
}

}  // namespace

Status load_storage_plugin(const std::string& path, std::string* name) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return plugin_error(path, "no such file");
  // RTLD_NOW: an undefined symbol fails here, with its name, not at the first call.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return plugin_error(path, err ? err : "cannot be loaded");
  }
  using AbiFn = const StoragePluginAbi* (*)();
  using KindFn = const StorageKind* (*)();
  auto abi_fn = reinterpret_cast<AbiFn>(dlsym(handle, "memgoose_storage_abi"));
  auto kind_fn = reinterpret_cast<KindFn>(dlsym(handle, "memgoose_storage_kind"));
  if (!abi_fn || !kind_fn) {
    dlclose(handle);
    return plugin_error(path,
                        "not a memgoose storage plugin (no memgoose_storage_abi / "
                        "memgoose_storage_kind: define them with MEMGOOSE_STORAGE_PLUGIN)");
  }
  constexpr StoragePluginAbi mine = storage_plugin_abi();
  const StoragePluginAbi* theirs = abi_fn();
  if (!theirs || !same_abi(*theirs, mine)) {
    std::string got = theirs ? describe(*theirs) : "none";
    dlclose(handle);
    return plugin_error(path, "incompatible plugin ABI (plugin: " + got +
                                  "; memgoosed: " + describe(mine) +
                                  "): rebuild it against this memgoosed's headers");
  }
  // From here the object stays loaded: its code is referenced by the registered kind.
  Status s = guard([&]() -> Status {
    const StorageKind* kind = kind_fn();
    if (!kind) return plugin_error(path, "memgoose_storage_kind() returned null");
    Status r = register_storage_kind(*kind);
    if (!r.ok()) return plugin_error(path, r.message);
    if (name) *name = kind->name;
    return Status::OK();
  });
  return s;
}

}  // namespace mg
