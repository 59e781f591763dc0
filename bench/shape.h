// bench/shape.h — memgoose's benchmark document shape and the schema used with it.
//
// {email, name, age, city, status, score, active, createdAt}: email unique, status indexed,
// compound city+age; statuses cycle through three values so an equality on status matches a
// third of the documents, as in memgoose's published benchmark.
#pragma once

#include <cstdint>
#include <string>

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
