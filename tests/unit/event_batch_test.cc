// Change event bodies (actors/event_batch.h, CONTRACT.md §7): the direct encoding is MpWriter's
// map {seq, op, id, doc?, ts} byte for byte, and a batch hands back what it was given.
#define BOOST_TEST_MODULE event_batch
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "actors/event_batch.h"
#include "core/ejson.h"
#include "core/msgpack.h"

using namespace mg;

namespace {

// The encoding event bodies had before they were written directly: MpWriter, key by key.
std::string reference(const ChangeEvent& e) {
  std::string out;
  MpWriter w(out);
  w.map_header(e.doc ? 5 : 4);
  w.str("seq"), w.integer(int64_t(e.seq));
  w.str("op"), w.str(change_op_name(e.op));
  w.str("id");
  if (e.id.empty())
    w.nil();
  else
    w.raw(e.id);
  if (e.doc) w.str("doc"), w.raw(e.doc.bytes());
  w.str("ts"), w.date(e.ts);
  return out;
}

ChangeEvent event(uint64_t seq, ChangeEvent::Op op, std::string id_json, const char* doc_json,
                  Date ts) {
  ChangeEvent e;
  e.seq = seq;
  e.op = op;
  if (!id_json.empty()) e.id = mp_from_json(id_json);
  if (doc_json) e.doc = DocRef::make(mp_from_json(doc_json));
  e.ts = ts;
  return e;
}

std::vector<ChangeEvent> samples() {
  using Op = ChangeEvent::Op;
  std::vector<ChangeEvent> v;
  const char* doc = R"({"_id":"5f1d7a0b2c3e4f5061728394","email":"a@x","age":7,"f":1.5})";
  for (uint64_t seq : {1ull, 127ull, 128ull, 255ull, 256ull, 65535ull, 65536ull, 4294967295ull,
                       4294967296ull, (1ull << 62)})
    v.push_back(event(seq, Op::Insert, R"("5f1d7a0b2c3e4f5061728394")", doc, Date{1700000000, 0}));
  v.push_back(event(5, Op::Update, "1", R"({"_id":1,"n":[1,2,{"x":null}]})", Date{0, 0}));
  v.push_back(event(6, Op::Replace, "-3", R"({"_id":-3})", Date{1700000000, 123000000}));
  v.push_back(event(7, Op::Delete, R"("k")", nullptr, Date{4294967296ll, 0}));
  v.push_back(event(8, Op::Delete, "2.5", nullptr, Date{(1ll << 34), 5}));
  v.push_back(event(9, Op::Drop, "", nullptr, Date{-1, 0}));
  v.push_back(event(10, Op::Insert, R"({"a":"b"})", R"({"_id":{"a":"b"}})", Date{-86400, 7}));
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(encoding_is_mpwriters_byte_for_byte) {
  for (const ChangeEvent& e : samples()) {
    std::string want = reference(e);
    EventView v = EventView::of(e);
    BOOST_TEST_CONTEXT("seq " << e.seq) {
      BOOST_TEST(v.encoded_size() == want.size());
      std::string got(v.encoded_size(), '\0');
      BOOST_TEST(v.encode(got.data()) == got.data() + got.size());
      BOOST_TEST(got == want);
      BOOST_TEST(validate(got).ok());
      std::string appended = "prefix";
      v.append_to(appended);
      BOOST_TEST(appended == "prefix" + want);
    }
  }
}

BOOST_AUTO_TEST_CASE(batch_hands_back_its_events_and_shares_documents) {
  std::vector<ChangeEvent> events = samples();
  EventBatch b("db.model");
  b.add(std::vector<ChangeEvent>(events.begin(), events.begin() + 4));
  b.add(std::vector<ChangeEvent>(events.begin() + 4, events.end()));
  BOOST_TEST(b.topic() == "db.model");
  BOOST_REQUIRE(b.size() == events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EventView v = b[i];
    BOOST_TEST(v.seq == events[i].seq);
    BOOST_TEST(v.id == events[i].id);
    BOOST_TEST(v.doc.empty() == !events[i].doc);
    // Shared, not copied: the same address. Compared as void*: Boost.Test compares two
    // char pointers as C strings (strcmp past the end of the bytes: ASan caught it).
    if (events[i].doc)
      BOOST_TEST(static_cast<const void*>(v.doc.data()) ==
                 static_cast<const void*>(events[i].doc.bytes().data()));
    std::string got(v.encoded_size(), '\0');
    v.encode(got.data());
    BOOST_TEST(got == reference(events[i]));
  }
}
