// examples/redis-storage/stale_abi_plugin.cc — a test fixture, not an example: a plugin whose
// ABI record claims another version, as one built against older headers would. memgoosed must
// refuse it at start, before calling memgoose_storage_kind() (test_redis_storage.py).
#include "storage/plugin.h"

extern "C" __attribute__((visibility("default"))) const mg::StoragePluginAbi*
memgoose_storage_abi() {
  static mg::StoragePluginAbi abi = [] {
    mg::StoragePluginAbi a = mg::storage_plugin_abi();
    a.version += 1000;
    return a;
  }();
  return &abi;
}

extern "C" __attribute__((visibility("default"))) const mg::StorageKind* memgoose_storage_kind() {
  __builtin_trap();  // never called
}
