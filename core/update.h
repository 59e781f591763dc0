// core/update.h — update documents compiled once and applied to one document at a time.
//
// Operators (CONTRACT.md §5): $set $unset $inc $mul $min $max $rename $push (with $each,
// $slice) $pull $addToSet (with $each) $pop $setOnInsert $currentDate, all on dot paths.
// An update without operators is BadValue (the caller uses replaceOne). Two operators on the
// same or overlapping paths ("a" and "a.b") are BadValue, as in MongoDB.
#pragma once

#include <memory>

#include "core/msgpack.h"
#include "core/value.h"

namespace mg {

class Update {
 public:
  virtual ~Update() = default;

  // Compiles an update map. Throws Error: BadValue for no operators, an unknown operator
  // (naming it), a non-map operand, conflicting paths, an empty or '$'-prefixed field name.
  static std::unique_ptr<Update> compile(MpView update);

  // Applies the update to `doc` (a map). `inserting` enables $setOnInsert (upserts); `now` is
  // used by $currentDate. Returns true when the document changed. Throws Error (TypeMismatch
  // for $inc on a string, $push on a non-array, a path through a scalar, ...; BadValue for
  // values the contract forbids) and then `doc` may be partly modified: callers apply to a copy.
  // Does not check `_id`: the collection compares it before and after (ImmutableField).
  virtual bool apply(Value& doc, bool inserting, Date now) const = 0;
};

// Sets `path` (dotted) in the map `doc` to `v`, creating intermediate maps; used for upsert
// seeds and schema defaults. Throws Error TypeMismatch when a component is a scalar.
void set_path(Value& doc, std::string_view dotted, Value v);

}  // namespace mg
