// daemon/out_buffer.h — bytes queued for one TCP peer of the daemon's own ZMTP endpoints
// (daemon/direct_pub.h, daemon/direct_router.h), sent without blocking.
//
// One contiguous block, [begin, end) queued; grown by doubling (at least 64 KiB), compacted
// when the free room is at the front. queued_total and sent_total count bytes ever queued and
// sent, so a caller can tell when a given message has left (direct_pub.h's high-water mark).
// Not thread-safe.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace mg {

class OutBuffer {
 public:
  size_t queued() const { return end_ - begin_; }
  // Room for `n` more bytes; write them there, then commit() how many were written.
  char* reserve(size_t n) {
    if (cap_ - end_ >= n) return out_.get() + end_;
    size_t used = end_ - begin_;
    if (used + n <= cap_ && begin_ > 0) {
      std::memmove(out_.get(), out_.get() + begin_, used);
    } else {
      size_t bigger = std::max({2 * cap_, used + n, size_t(64 * 1024)});
      std::unique_ptr<char[]> o(new char[bigger]);
      if (used) std::memcpy(o.get(), out_.get() + begin_, used);
      out_ = std::move(o), cap_ = bigger;
    }
    begin_ = 0, end_ = used;
    return out_.get() + end_;
  }
  void commit(size_t n) {
    end_ += n;
    queued_total_ += n;
  }
  void append(std::string_view s) {
    std::memcpy(reserve(s.size()), s.data(), s.size());
    commit(s.size());
  }
  // Sends what it can to `fd` without blocking; false when the connection is broken.
  bool write(int fd) {
    while (begin_ < end_) {
      ssize_t n = ::send(fd, out_.get() + begin_, end_ - begin_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        begin_ += size_t(n);
        sent_total_ += uint64_t(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n < 0 && errno == EAGAIN) break;
        return false;
      }
    }
    if (begin_ == end_) begin_ = end_ = 0;
    return true;
  }
  uint64_t queued_total() const { return queued_total_; }
  uint64_t sent_total() const { return sent_total_; }
  // Frees the block when nothing is queued and it has grown past `keep` bytes (a peer that once
  // took a big reply does not keep its buffer).
  void shrink(size_t keep) {
    if (begin_ == end_ && cap_ > keep) out_.reset(), cap_ = begin_ = end_ = 0;
  }

 private:
  std::unique_ptr<char[]> out_;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
  uint64_t queued_total_ = 0, sent_total_ = 0;
};

}  // namespace mg
