// core/document.h — a stored document: immutable MessagePack bytes with a reference count.
//
// Documents are allocated once, never modified, and shared (by the collection, its indexes'
// key pointers, the change log and in-flight replies) through DocRef. The count is atomic so
// a reply or change event may be released on another thread. Layout: one malloc block,
// [refs:4][size:4][bytes...]; index entries point straight into `bytes`.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#include "core/msgpack.h"

namespace mg {

class DocRef {
  struct Block {
    std::atomic<uint32_t> refs;
    uint32_t size;
    uint8_t bytes[];
  };

 public:
  DocRef() = default;
  // Copies `bytes` (a validated MessagePack map) into a new block.
  static DocRef make(std::string_view bytes) { return make(bytes, {}); }
  // The concatenation of `head` and `tail` (e.g. a new map header and `_id`, then the fields
  // of a client's document) in a new block, without an intermediate copy.
  static DocRef make(std::string_view head, std::string_view tail) {
    size_t n = head.size() + tail.size();
    auto* b = static_cast<Block*>(std::malloc(sizeof(Block) + n));
    if (!b) throw std::bad_alloc();
    new (&b->refs) std::atomic<uint32_t>(1);
    b->size = uint32_t(n);
    std::memcpy(b->bytes, head.data(), head.size());
    if (!tail.empty()) std::memcpy(b->bytes + head.size(), tail.data(), tail.size());
    DocRef r;
    r.b_ = b;
    return r;
  }
  DocRef(const DocRef& o) : b_(o.b_) {
    if (b_) b_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  DocRef(DocRef&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  DocRef& operator=(DocRef o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~DocRef() {
    if (b_ && b_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) std::free(b_);
  }

  explicit operator bool() const { return b_ != nullptr; }
  MpView view() const { return MpView(b_->bytes); }
  std::string_view bytes() const { return {reinterpret_cast<const char*>(b_->bytes), b_->size}; }
  const uint8_t* data() const { return b_->bytes; }
  uint32_t size() const { return b_->size; }
  // Bytes of heap used by this document, allocator header included (for stats).
  size_t footprint() const { return b_ ? sizeof(Block) + b_->size + 16 : 0; }

 private:
  Block* b_ = nullptr;
};

}  // namespace mg
