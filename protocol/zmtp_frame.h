// protocol/zmtp_frame.h — the bytes of ZMTP 3.0 (rfc.zeromq.org/spec/23, NULL mechanism) that
// both ends of a direct connection write and read: the client's ZmtpConnection (a DEALER or a
// SUB, clients/cpp/zmtp.h) and the daemon's own publisher (an XPUB, daemon/direct_pub.h).
//
//   greeting = 0xFF, 8 bytes of padding, 0x7F, version 3.0, mechanism "NULL" (20 bytes,
//              zero-padded), as-server 0, 31 bytes of filler: 64 bytes in all
//   frame    = flags (bit 0 MORE, bit 1 LONG: 8-byte size, bit 2 COMMAND), size (1 byte, or 8
//              big-endian with LONG), body
//   command  = name length (1 byte), name, data; READY's data is properties
//              (name length, name, 4-byte big-endian value length, value)
// Example: a SUB's subscription to "db.Model" is the data frame 00 09 01 'db.Model'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mg::zmtp {

inline constexpr uint8_t kMore = 1, kLong = 2, kCommand = 4;
inline constexpr size_t kGreetingSize = 64;

// Our greeting followed by READY with the one property peers check: Socket-Type.
std::string hello(std::string_view socket_type);
// True when `greeting` (64 bytes) is a ZMTP 3.x greeting with the NULL mechanism.
bool valid_greeting(std::string_view greeting);

// One frame's header: parse() is false until the whole header is among `avail` bytes.
struct FrameHead {
  uint8_t flags = 0;
  size_t head = 0, size = 0;
  bool parse(const char* p, size_t avail);
  // The whole frame, header included, is among `avail` bytes.
  bool whole(size_t avail) const { return avail - head >= size; }
};

// Writes the header of a frame of `size` body bytes at `p` (room for 9); returns its length.
size_t put_head(char* p, uint8_t flags, size_t size);

// A command frame's name and data; false when the body is too short for its name.
bool split_command(std::string_view body, std::string_view& name, std::string_view& data);
// The value of property `name` (case-insensitive) in READY's data; empty when absent.
std::string_view property(std::string_view props, std::string_view name);
// The whole PONG frame answering a PING command's data (TTL and context; of the context, the
// 16 octets ZMTP allows, as libzmq keeps).
std::string pong_frame(std::string_view ping_data);

}  // namespace mg::zmtp
