// actors/event_batch.cc — see event_batch.h. The encoding is MpWriter's, byte for byte (the
// same integer and date forms), written straight into a buffer of the exact size.
#include "actors/event_batch.h"

#include <cstring>

namespace mg {

namespace {

// Big-endian `bytes` bytes of v.
char* put_be(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) *p++ = char((v >> (8 * i)) & 0xff);
  return p;
}

// A non-negative integer, as MpWriter::integer writes it (seq < 2^63).
size_t int_size(uint64_t v) {
  return v <= 0x7f ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffull ? 5 : 9;
}
char* put_int(char* p, uint64_t v) {
  if (v <= 0x7f) {
    *p++ = char(v);
    return p;
  }
  if (v <= 0xff) return *p++ = char(0xcc), put_be(p, v, 1);
  if (v <= 0xffff) return *p++ = char(0xcd), put_be(p, v, 2);
  if (v <= 0xffffffffull) return *p++ = char(0xce), put_be(p, v, 4);
  return *p++ = char(0xd3), put_be(p, v, 8);
}

// A date, as MpWriter::date writes it (the timestamp extension, type -1).
bool date_short(Date d) {
  return d.sec >= 0 && (d.sec >> 34) == 0;
}
size_t date_size(Date d) {
  if (!date_short(d)) return 15;
  return d.nsec == 0 && d.sec <= 0xffffffffll ? 6 : 10;
}
char* put_date(char* p, Date d) {
  if (date_short(d) && d.nsec == 0 && d.sec <= 0xffffffffll)
    return *p++ = char(0xd6), *p++ = char(-1), put_be(p, uint64_t(d.sec), 4);
  if (date_short(d))
    return *p++ = char(0xd7), *p++ = char(-1),
           put_be(p, uint64_t(d.nsec) << 34 | uint64_t(d.sec), 8);
  *p++ = char(0xc7), *p++ = char(12), *p++ = char(-1);
  return put_be(put_be(p, d.nsec, 4), uint64_t(d.sec), 8);
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// The keys, as fixstr.
constexpr std::string_view kSeq("\xa3seq", 4), kOp("\xa2op", 3), kId("\xa2id", 3),
    kDoc(
        "\xa3"
        "doc",
        4),  // split: \xa3d would be one escape
    kTs("\xa2ts", 3);

}  // namespace

size_t EventView::encoded_size() const {
  size_t n = 1 + kSeq.size() + int_size(seq) + kOp.size() + 1 + change_op_name(op).size() +
             kId.size() + (id.empty() ? 1 : id.size()) + kTs.size() + date_size(ts);
  return doc.empty() ? n : n + kDoc.size() + doc.size();
}

char* EventView::encode(char* p) const {
  *p++ = char(doc.empty() ? 0x84 : 0x85);
  p = put_int(put(p, kSeq), seq);
  std::string_view name = change_op_name(op);  // at most 7 bytes: a fixstr
  p = put(p, kOp);
  *p++ = char(0xa0 | name.size());
  p = put(put(p, name), kId);
  if (id.empty())
    *p++ = char(0xc0);
  else
    p = put(p, id);
  if (!doc.empty()) p = put(put(p, kDoc), doc);
  return put_date(put(p, kTs), ts);
}

void EventView::append_to(std::string& out) const {
  size_t at = out.size();
  out.resize(at + encoded_size());
  encode(out.data() + at);
}

void EventBatch::add(const std::vector<ChangeEvent>& events) {
  size_t id_bytes = ids_.size();
  for (const ChangeEvent& e : events) id_bytes += e.id.size();
  ids_.reserve(id_bytes);
  items_.reserve(items_.size() + events.size());
  for (const ChangeEvent& e : events) {
    items_.push_back({e.seq, e.ts, e.doc, uint32_t(ids_.size()), uint32_t(e.id.size()), e.op});
    ids_.append(e.id);
  }
}

}  // namespace mg
