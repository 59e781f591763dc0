#include "storage/engine.h"

#include "storage/file_storage.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"

namespace mg {

namespace {

class MemoryEngine final : public StorageEngine {
 public:
  std::unique_ptr<StorageStrategy> make_model(const std::string&) override {
    return make_memory_storage();
  }
};

StorageKind memory_kind() {
  StorageKind k;
  k.name = "memory";
  k.persistent = false;
  k.normalize = [](MpView options) -> Result<std::string> {
    Status s = for_each_option(options, "memory", {}, [](std::string_view, MpView) {});
    if (!s.ok()) return s;
    return std::string("\x80", 1);
  };
  k.open = [](const std::string&, MpView) -> Result<std::shared_ptr<StorageEngine>> {
    return std::shared_ptr<StorageEngine>(std::make_shared<MemoryEngine>());
  };
  return k;
}

}  // namespace

const std::vector<StorageKind>& storage_kinds() {
  static const std::vector<StorageKind> kinds = {memory_kind(), file_storage_kind(),
                                                 sqlite_storage_kind()};
  return kinds;
}

const StorageKind* find_storage_kind(std::string_view name) {
  for (auto& k : storage_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

Status for_each_option(MpView options, std::string_view kind,
                       const std::vector<std::string_view>& allowed,
                       const std::function<void(std::string_view, MpView)>& fn) {
  return guard([&]() -> Status {
    if (!options.valid() || options.type() == MpType::Nil) return Status::OK();
    if (options.type() != MpType::Map)
      return make_status(ErrorCode::InvalidOptions, "'options' must be a map");
    MapIter it(options);
    std::string_view key;
    MpView value;
    while (it.next(key, value)) {
      bool ok = false;
      for (auto a : allowed) ok = ok || a == key;
      if (!ok) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return make_status(ErrorCode::InvalidOptions,
                           "unknown option '" + std::string(key) + "' for " + std::string(kind) +
                               " storage (" +
                               (list.empty() ? "it takes none" : "allowed: " + list) + ")");
      }
      fn(key, value);
    }
    return Status::OK();
  });
}

}  // namespace mg
