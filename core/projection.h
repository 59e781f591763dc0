// core/projection.h — `projection` of find/findOne/findById/findOneAndX (CONTRACT.md §5).
//
// Either inclusion ({a: 1, "b.c": 1}) or exclusion ({a: 0}); `_id` is included unless excluded
// and may be excluded from an inclusion. Values 1/0/true/false (any number: non-zero includes).
// Dot paths reach into maps and apply to each map element of an array, as in MongoDB.
#pragma once

#include <memory>
#include <string>

#include "core/msgpack.h"

namespace mg {

class Projection {
 public:
  virtual ~Projection() = default;

  // Compiles a projection map. An invalid view or empty map projects nothing (whole docs).
  // Throws Error BadValue for mixing inclusion and exclusion (other than _id), operators, or
  // bad paths.
  static std::unique_ptr<Projection> compile(MpView projection);

  virtual bool is_identity() const = 0;

  // Appends the projected document to `out` as MessagePack. Field order is the document's.
  virtual void apply(MpView doc, std::string& out) const = 0;
};

}  // namespace mg
