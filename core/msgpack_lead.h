// core/msgpack_lead.h — what a MessagePack lead byte says about the value it starts (the
// format table of the MessagePack spec), as a 256-entry constexpr table: its whole size
// (Fixed), the size of its header before a payload whose length follows the lead byte in
// `len_bytes` big-endian bytes (Sized), a container with a count in the lead byte or in the
// `len_bytes` after it (Array, Map), or the unused byte 0xc1 (Bad). One table load and one
// switch per value instead of a chain of tests: core's check_structure and the C++ client's
// event walk (clients/cpp/watch.cc) share it.
#pragma once

#include <array>
#include <cstdint>

namespace mg::mp_lead {

struct Lead {
  enum Kind : uint8_t { Fixed, Sized, Array, Map, Bad };
  Kind kind = Bad;
  uint8_t size = 0;       // Fixed: the whole value; otherwise the header before the payload
  uint8_t len_bytes = 0;  // big-endian length/count bytes after the lead byte (0: in the lead)
};

constexpr std::array<Lead, 256> make_lead_table() {
  std::array<Lead, 256> t{};
  auto fixed = [&t](int b, int size) { t[b] = Lead{Lead::Fixed, uint8_t(size), 0}; };
  auto sized = [&t](int b, int header, int len_bytes) {
    t[b] = Lead{Lead::Sized, uint8_t(header), uint8_t(len_bytes)};
  };
  for (int b = 0x00; b <= 0x7f; ++b) fixed(b, 1);  // positive fixint
  for (int b = 0xe0; b <= 0xff; ++b) fixed(b, 1);  // negative fixint
  for (int b = 0x80; b <= 0x8f; ++b) t[b] = Lead{Lead::Map, 1, 0};
  for (int b = 0x90; b <= 0x9f; ++b) t[b] = Lead{Lead::Array, 1, 0};
  for (int b = 0xa0; b <= 0xbf; ++b) fixed(b, 1 + (b & 0x1f));     // fixstr
  fixed(0xc0, 1), fixed(0xc2, 1), fixed(0xc3, 1);                  // nil, false, true
  sized(0xc4, 2, 1), sized(0xc5, 3, 2), sized(0xc6, 5, 4);         // bin 8/16/32
  sized(0xc7, 3, 1), sized(0xc8, 4, 2), sized(0xc9, 6, 4);         // ext 8/16/32 (+ type byte)
  fixed(0xca, 5), fixed(0xcb, 9);                                  // float 32/64
  fixed(0xcc, 2), fixed(0xcd, 3), fixed(0xce, 5), fixed(0xcf, 9);  // uint 8..64
  fixed(0xd0, 2), fixed(0xd1, 3), fixed(0xd2, 5), fixed(0xd3, 9);  // int 8..64
  fixed(0xd4, 3), fixed(0xd5, 4), fixed(0xd6, 6), fixed(0xd7, 10), fixed(0xd8, 18);  // fixext
  sized(0xd9, 2, 1), sized(0xda, 3, 2), sized(0xdb, 5, 4);                           // str 8/16/32
  t[0xdc] = Lead{Lead::Array, 3, 2}, t[0xdd] = Lead{Lead::Array, 5, 4};
  t[0xde] = Lead{Lead::Map, 3, 2}, t[0xdf] = Lead{Lead::Map, 5, 4};
  return t;  // 0xc1 stays Bad
}

constexpr std::array<Lead, 256> kLead = make_lead_table();

}  // namespace mg::mp_lead
