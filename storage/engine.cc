#include "storage/engine.h"

#include "storage/file_storage.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "storage/wiredtiger_storage.h"

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

// The kinds compiled in; register_storage_kind() appends to them.
static std::vector<StorageKind>& kind_registry() {
  static std::vector<StorageKind> kinds = {memory_kind(), file_storage_kind(),
                                           sqlite_storage_kind(), wiredtiger_storage_kind()};
  return kinds;
}

const std::vector<StorageKind>& storage_kinds() {
  return kind_registry();
}

Status register_storage_kind(StorageKind kind) {
  const std::string& n = kind.name;
  bool valid = !n.empty() && n.size() <= 64 && !(n[0] >= '0' && n[0] <= '9') && n[0] != '-';
  for (char c : n)
    valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-');
  if (!valid)
    return make_status(
        ErrorCode::InvalidOptions,
        "storage kind name '" + n.substr(0, 80) + "' must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
  if (find_storage_kind(n))
    return make_status(ErrorCode::InvalidOptions, "storage kind '" + n + "' already exists");
  if (!kind.normalize || !kind.open)
    return make_status(ErrorCode::InvalidOptions,
                       "storage kind '" + n + "' lacks normalize or open");
  kind_registry().push_back(std::move(kind));
  return Status::OK();
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
