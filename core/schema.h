// core/schema.h — model schemas: validation, defaults, timestamps, declared indexes.
//
// The `schema` argument of defineModel (CONTRACT.md §5):
//   fields: {path: {type, required, default, unique, index, min, max, minLength, maxLength,
//            enum, match}}
//   indexes: [{fields: {a: 1, b: -1}, unique: bool, ttlSeconds: int}]
//   timestamps: bool, strict: bool
// type ∈ string number int bool date array object objectId binary any. `number` takes ints and
// floats, `int` only integers, `objectId` a 24-hex-digit string. min/max bound numbers (and
// dates), minLength/maxLength strings and arrays, enum lists allowed values, match is an RE2
// pattern for strings. A missing optional field is not validated; nil counts as missing for
// `required`.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/msgpack.h"
#include "core/path.h"
#include "core/value.h"

namespace mg {

// An index declared by a schema (or implicitly: `_id`).
struct IndexSpec {
  std::vector<std::pair<FieldPath, int>> fields;  // path, direction (1 or -1)
  bool unique = false;
  int64_t ttl_seconds = -1;  // >= 0: TTL index (single date field)
  // "email_1", "city_1_age_-1": MongoDB's default index name.
  std::string name() const;
  bool same_as(const IndexSpec& o) const;  // same fields, directions, unique, ttl
};

class Schema {
 public:
  virtual ~Schema() = default;

  // Parses a schema map (invalid view or empty map: the empty schema). Throws Error BadValue
  // or TypeMismatch for an unknown type name, a bad option, a bad regex, naming the field.
  static std::shared_ptr<const Schema> parse(MpView schema);

  // The schema exactly as given (encoded MessagePack map; an empty map for none).
  virtual const std::string& encoded() const = 0;

  // The indexes the schema declares (field-level unique/index first, then `indexes`),
  // without `_id`.
  virtual const std::vector<IndexSpec>& indexes() const = 0;

  virtual bool timestamps() const = 0;

  // True when prepare_insert can leave documents untouched (no defaults, no timestamps).
  virtual bool inserts_unchanged() const = 0;

  // Fills defaults for missing fields and, with timestamps, createdAt/updatedAt (unless the
  // document sets them). `doc` is a map.
  virtual void prepare_insert(Value& doc, Date now) const = 0;

  // With timestamps: sets updatedAt to now (and createdAt if missing). `doc` is a map.
  virtual void prepare_update(Value& doc, Date now) const = 0;

  // Validates a whole document. OK, or DocumentValidationFailure with one issue per problem
  // (path and reason) in `errors` and a message summarising the first.
  virtual Status validate(MpView doc) const = 0;

  // The path each rule checks, in rule order (a field may appear once per rule).
  virtual const std::vector<FieldPath>& rule_paths() const = 0;
  // validate() with the value at each rule_paths()[i] already read by the caller (an invalid
  // view: the field is absent), e.g. from one scan of the document's top-level fields.
  virtual Status validate(MpView doc, std::span<const MpView> values) const = 0;
};

}  // namespace mg
