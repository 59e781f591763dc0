#include "storage/memory_storage.h"

namespace mg {

namespace {

class MemoryStorage final : public StorageStrategy {
 public:
  Status open(const std::function<Status(std::string_view)>&) override { return {}; }
  uint64_t last_seq() const override { return last_seq_; }
  Status apply(std::span<const Change> changes) override {
    if (!changes.empty()) last_seq_ = changes.back().seq;
    return {};
  }
  Status commit() override {
    ++commits_;
    return {};
  }
  Status flush() override { return {}; }
  void close() override {}
  Status destroy() override { return {}; }
  StorageStats stats() const override {
    StorageStats s;
    s.commits = commits_;
    return s;
  }

 private:
  uint64_t last_seq_ = 0;
  uint64_t commits_ = 0;
};

}  // namespace

std::unique_ptr<StorageStrategy> make_memory_storage() {
  return std::make_unique<MemoryStorage>();
}

}  // namespace mg
