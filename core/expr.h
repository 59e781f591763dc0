// core/expr.h — aggregation expressions (CONTRACT.md §5 `aggregate`), compiled once and then
// evaluated per document without building a document tree.
//
// An expression is "$a.b" (a field path: through an array it yields the array of the values
// found, as in MongoDB), "$$VAR" / "$$VAR.a" (ROOT, CURRENT, REMOVE, or a name bound by $map,
// $filter or $let), a literal, an array or map of expressions, or {$op: args}. `compile` throws
// Error BadValue for an unknown operator (naming it), a bad argument shape or an undefined
// variable. Evaluation throws Error for MongoDB's runtime errors (TypeMismatch for an operand of
// the wrong type, BadValue for $divide by zero, a $switch without a match, ...).
//
// Values are MessagePack views: an evaluation returns a view into the document, into a constant
// owned by the expression, or into the caller's `out` buffer. An invalid view is "missing",
// which MongoDB distinguishes from null (a missing field is not written; $$REMOVE is missing).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/msgpack.h"
#include "core/path.h"

namespace mg {

// What an evaluation sees: the document ($$ROOT, $$CURRENT) and the values of the variables
// bound by enclosing $map / $filter / $let, by the slot compile gave them.
struct ExprVars {
  MpView root;
  std::vector<MpView> bound;
};

class Expr {
 public:
  virtual ~Expr() = default;

  // Compiles an expression (a validated MessagePack value). The expression copies what it
  // keeps; `spec`'s bytes need not outlive it. Throws Error (see above).
  static std::unique_ptr<Expr> compile(MpView spec);

  // Evaluates against `vars` (which it may extend temporarily and restores). The returned view
  // points into vars' documents, into the expression, or into `out` (overwritten); invalid =
  // missing. Throws Error on MongoDB's runtime errors.
  virtual MpView eval(ExprVars& vars, std::string& out) const = 0;

  // The path when the expression is a plain field path of the document ("$a.b"), else nullptr.
  virtual const FieldPath* field_path() const { return nullptr; }
  // True for a literal (its value does not depend on the document).
  virtual bool is_constant() const { return false; }
};

using ExprPtr = std::unique_ptr<Expr>;

// The order of aggregation comparisons ($eq, $cmp, $min ...): compare.h's order, with missing
// below null.
int expr_compare(MpView a, MpView b);

// $type's name of a value: "missing", "null", "bool", "int" / "long" (by range), "double",
// "string", "object", "array", "binData", "date".
std::string_view expr_type_name(MpView v);

}  // namespace mg
