// tests/crash/ledger.cc — see ledger.h.
#include "tests/crash/ledger.h"

namespace mg::crash {

void apply_write(State& s, const Write& w) {
  for (int64_t id : w.ids) {
    if (w.version)
      s[id] = *w.version;
    else
      s.erase(id);
  }
}

size_t Ledger::record(Write w) {
  apply_write(intended_, w);
  sent_.push_back(std::move(w));
  return sent_.size() - 1;
}

bool Ledger::acknowledge(size_t index) {
  if (index != acked_) return false;
  acked_ = index + 1;
  return true;
}

Ledger Ledger::next_round(const State& recovered) const {
  Ledger next(recovered);
  next.earlier_ = earlier_;
  for (auto& [id, v] : base_) next.earlier_[id].push_back(v);
  for (const Write& w : sent_)
    if (w.version)
      for (int64_t id : w.ids) next.earlier_[id].push_back(*w.version);
  return next;
}

int64_t Ledger::matching_prefix(const State& actual) const {
  State s = base_;
  for (size_t k = 0; k < acked_; ++k) apply_write(s, sent_[k]);
  // Count the ids on which s and actual differ, and keep the count as writes are added.
  auto differs = [&](int64_t id) {
    auto a = actual.find(id);
    auto b = s.find(id);
    if (a == actual.end() || b == s.end()) return (a == actual.end()) != (b == s.end());
    return a->second != b->second;
  };
  int64_t mismatches = 0;
  for (auto& [id, _] : s) mismatches += differs(id);
  for (auto& [id, _] : actual) mismatches += !s.count(id);
  for (size_t k = acked_;; ++k) {
    if (mismatches == 0) return int64_t(k);
    if (k == sent_.size()) return -1;
    for (int64_t id : sent_[k].ids) mismatches -= differs(id);
    apply_write(s, sent_[k]);
    for (int64_t id : sent_[k].ids) mismatches += differs(id);
  }
}

Diagnosis Ledger::diagnose(const State& actual) const {
  // Per id: every value it ever had (nullopt = absent), the value after the last acknowledged
  // write, and the values in-flight writes could leave.
  using Value = std::optional<int64_t>;
  struct History {
    std::vector<Value> before;  // base and acknowledged values, oldest first
    Value acked;
    std::vector<Value> in_flight;
  };
  std::map<int64_t, History> h;
  auto value_in = [](const State& s, int64_t id) -> Value {
    auto it = s.find(id);
    return it == s.end() ? Value() : Value(it->second);
  };
  for (auto& [id, versions] : earlier_)
    for (int64_t v : versions) h[id].before.push_back(v);
  for (auto& [id, v] : base_) h[id].acked = v;
  for (size_t k = 0; k < sent_.size(); ++k)
    for (int64_t id : sent_[k].ids) {
      History& e = h[id];
      if (k < acked_) {
        e.before.push_back(e.acked);
        e.acked = sent_[k].version;
      } else {
        e.in_flight.push_back(sent_[k].version);
      }
    }
  for (auto& [id, _] : actual) h.try_emplace(id);

  Diagnosis d;
  int shown = 0;
  auto text = [](Value v) { return v ? "v" + std::to_string(*v) : std::string("nothing"); };
  auto note = [&](int64_t& counter, const char* what, int64_t id, Value got, Value want) {
    ++counter;
    if (shown++ < 5)
      d.examples += std::string(what) + " _id " + std::to_string(id) + " (found " + text(got) +
                    ", acknowledged " + text(want) + ") ";
  };
  for (auto& [id, e] : h) {
    Value got = value_in(actual, id);
    if (got == e.acked) continue;
    bool in_flight = false;
    for (auto& v : e.in_flight) in_flight |= v == got;
    if (in_flight) continue;
    bool earlier = false;
    for (auto& v : e.before) earlier |= v == got;
    if (!got || (earlier && e.acked))
      note(d.lost, "lost", id, got, e.acked);
    else if (earlier)
      note(d.resurrected, "resurrected", id, got, e.acked);
    else
      note(d.phantom, "phantom", id, got, e.acked);
  }
  if (d.clean() && matching_prefix(actual) < 0) {
    d.torn = 1;
    d.examples +=
        "every id is at a value some write gave it, but no prefix of the writes gives "
        "them all (a batch half applied, or writes applied out of order)";
  }
  return d;
}

}  // namespace mg::crash
