// bench/shape.h — the documents of the benchmark, generated in this one place: memgoose's
// benchmark shape and the schema used with it, the lorem-ipsum documents of the compression
// comparison, batches of either, and a document with its `_id` as the daemon would store it.
//
// {email, name, age, city, status, score, active, createdAt}: email unique, status indexed,
// compound city+age; statuses cycle through three values so an equality on status matches a
// third of the documents, as in memgoose's published benchmark. Every generator is a pure
// function of the document number, so a document can be regenerated to look it up.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/msgpack.h"

namespace mg::bench {

inline const char* kCities[] = {"New York", "London",  "Paris",  "Tokyo", "Berlin",
                                "Sydney",   "Toronto", "Madrid", "Rome",  "Oslo"};
inline const char* kStatuses[] = {"active", "inactive", "pending"};

inline std::string bench_email(uint64_t i) {
  return "user" + std::to_string(i) + "@example.com";
}

// One document of the shape, encoded.
inline std::string bench_doc(uint64_t i) {
  std::string out;
  MpWriter w(out);
  w.map_header(8);
  w.str("email"), w.str(bench_email(i));
  w.str("name"), w.str("User " + std::to_string(i));
  w.str("age"), w.integer(int64_t(18 + i % 60));
  w.str("city"), w.str(kCities[i % 10]);
  w.str("status"), w.str(kStatuses[i % 3]);
  w.str("score"), w.float64(double(i % 1000) / 10.0);
  w.str("active"), w.boolean(i % 2 == 0);
  w.str("createdAt"), w.date(Date::from_millis(1700000000000 + int64_t(i) * 1000));
  return out;
}

// Documents first .. first+n-1 of `gen` in batches of `per` (the last one may be shorter).
inline std::vector<std::vector<std::string>> doc_batches(
    uint64_t first, uint64_t n, uint64_t per, const std::function<std::string(uint64_t)>& gen) {
  std::vector<std::vector<std::string>> out;
  for (uint64_t i = first; i < first + n; i += per) {
    out.emplace_back();
    for (uint64_t k = i; k < std::min(first + n, i + per); ++k) out.back().push_back(gen(k));
  }
  return out;
}

// `doc` (an encoded map without `_id`) with `_id: id` as its first field, as the daemon stores
// a document it gave a generated ObjectId (core/collection_write.cc).
inline std::string with_id(std::string_view doc, std::string_view id) {
  MpView d(doc);
  std::string out;
  out.reserve(doc.size() + id.size() + 8);
  MpWriter w(out);
  w.map_header(d.count() + 1);
  w.str("_id");
  w.str(id);
  auto* first = reinterpret_cast<const char*>(d.first());
  out.append(first, size_t(doc.data() + doc.size() - first));
  return out;
}

// Document i of the compression comparison (issue 6, after the seed's example): about 3.8 KB
// of lorem-ipsum-like text drawn word by word from a fixed vocabulary (deterministic in i), and
// nested metadata: {title, body, metadata: {author: {name, email}, tags: [..], views, rating,
// createdAt, source: {system, version}}}.
inline std::string lorem_doc(uint64_t i) {
  static const char* kWords[] = {"lorem",      "ipsum",        "dolor",
                                 "sit",        "amet",         "consectetur",
                                 "adipiscing", "elit",         "sed",
                                 "do",         "eiusmod",      "tempor",
                                 "incididunt", "ut",           "labore",
                                 "et",         "dolore",       "magna",
                                 "aliqua",     "enim",         "ad",
                                 "minim",      "veniam",       "quis",
                                 "nostrud",    "exercitation", "ullamco",
                                 "laboris",    "nisi",         "aliquip",
                                 "ex",         "ea",           "commodo",
                                 "consequat",  "duis",         "aute",
                                 "irure",      "in",           "reprehenderit",
                                 "voluptate",  "velit",        "esse",
                                 "cillum",     "fugiat",       "nulla",
                                 "pariatur",   "excepteur",    "sint",
                                 "occaecat",   "cupidatat",    "non",
                                 "proident",   "sunt",         "culpa",
                                 "qui",        "officia",      "deserunt",
                                 "mollit",     "anim",         "id",
                                 "est",        "laborum"};
  constexpr uint64_t kCount = sizeof kWords / sizeof kWords[0];
  // splitmix64, seeded with a hash of i: each document draws its own stream (seeding with a
  // multiple of the increment would make document i+1's text document i's shifted by a word).
  uint64_t x = (i + 1) * 0xd6e8feb86659fd93ull;
  x = (x ^ (x >> 32)) * 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  auto next = [&x] {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  std::string body;
  body.reserve(3700);
  while (body.size() < 3600) {
    std::string_view word = kWords[next() % kCount];
    bool start = body.empty() || (body.back() == ' ' && body[body.size() - 2] == '.');
    body += start ? char(word[0] - 'a' + 'A') : word[0];
    body.append(word.substr(1));
    body += next() % 9 == 0 ? ". " : next() % 7 == 0 ? ", " : " ";
  }
  std::string title = "Document " + std::to_string(i) + ": " + kWords[next() % kCount] + " " +
                      kWords[next() % kCount];
  std::string out;
  MpWriter w(out);
  w.map_header(3);
  w.str("title"), w.str(title);
  w.str("body"), w.str(body);
  w.str("metadata"), w.map_header(6);
  w.str("author"), w.map_header(2);
  w.str("name"), w.str("Author " + std::to_string(i % 1000));
  w.str("email"), w.str("author" + std::to_string(i % 1000) + "@example.com");
  w.str("tags"), w.array_header(3);
  for (int t = 0; t < 3; ++t) w.str(kWords[next() % kCount]);
  w.str("views"), w.integer(int64_t(next() % 100000));
  w.str("rating"), w.float64(double(next() % 50) / 10.0);
  w.str("createdAt"), w.date(Date::from_millis(1700000000000 + int64_t(i) * 1000));
  w.str("source"), w.map_header(2);
  w.str("system"), w.str(kCities[i % 10]);
  w.str("version"), w.integer(int64_t(i % 7));
  return out;
}

// {field: value}, encoded: the filters of the benchmark's point queries.
inline std::string filter_eq(const char* field, const std::string& value) {
  std::string out;
  MpWriter w(out);
  w.map_header(1);
  w.str(field);
  w.str(value);
  return out;
}

// The schema: {fields: {email: {type: string, unique}, status: {type: string, index}},
// indexes: [{fields: {city: 1, age: 1}}]}
inline std::string bench_schema() {
  std::string out;
  MpWriter w(out);
  w.map_header(2);
  w.str("fields");
  w.map_header(2);
  w.str("email"), w.map_header(2), w.str("type"), w.str("string"), w.str("unique"), w.boolean(true);
  w.str("status"), w.map_header(2), w.str("type"), w.str("string"), w.str("index"), w.boolean(true);
  w.str("indexes");
  w.array_header(1);
  w.map_header(1);
  w.str("fields");
  w.map_header(2);
  w.str("city"), w.integer(1);
  w.str("age"), w.integer(1);
  return out;
}

}  // namespace mg::bench
