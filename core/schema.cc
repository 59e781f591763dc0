// core/schema.cc — parsing a defineModel schema once, then validating every written document.
//
// Design. `Schema::parse` turns the schema map (CONTRACT.md §5) into an immutable SchemaImpl:
//   - one FieldRule per declared path, in declaration order, holding the pre-parsed FieldPath,
//     the type, and each constraint in the form validate needs (min/max as encoded operands
//     compared with compare_values, lengths as integers, enum as an encoded array, match as a
//     compiled RE2) plus the reason text a failure will report, rendered at parse time;
//   - the declared indexes (field-level `unique`/`index` first, then `indexes`), deduplicated;
//   - the set of top-level names `strict` allows, and the defaults to fill on insert.
// Example: {fields: {age: {type: "int", min: 0}, "address.city": "string"}, strict: true}
// gives two rules; {age: -1, zip: 1} fails with errors [{path: "age", reason: "must be >= 0"},
// {path: "zip", reason: "field is not in the schema (strict)"}].
//
// validate() reads the stored bytes with get_path and allocates nothing until it finds an
// issue; then it collects every issue (not only the first) into one DocumentValidationFailure.
// A missing or nil value is only checked for `required`; a value of the wrong type reports the
// type mismatch and skips that field's other checks. Parse errors throw Error (BadValue for an
// unknown name or a value out of range, TypeMismatch for an operand of the wrong type) with a
// message naming the field.
#include "core/schema.h"

#include <absl/container/inlined_vector.h>

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "core/compare.h"
#include "core/ejson.h"

namespace mg {

namespace {

enum class Kind : uint8_t { Any, String, Number, Int, Bool, Date, Array, Object, ObjectId, Binary };

struct KindName {
  std::string_view name;
  Kind kind;
};
constexpr KindName kKinds[] = {
    {"string", Kind::String}, {"number", Kind::Number},     {"int", Kind::Int},
    {"bool", Kind::Bool},     {"date", Kind::Date},         {"array", Kind::Array},
    {"object", Kind::Object}, {"objectId", Kind::ObjectId}, {"binary", Kind::Binary},
    {"any", Kind::Any},
};

std::string_view kind_name(Kind k) {
  for (const auto& kn : kKinds)
    if (kn.kind == k) return kn.name;
  return "any";
}

bool is_object_id(std::string_view s) {
  if (s.size() != 24) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

bool kind_accepts(Kind k, MpView v) {
  MpType t = v.type();
  switch (k) {
    case Kind::Any:
      return true;
    case Kind::String:
      return t == MpType::Str;
    case Kind::Number:
      return t == MpType::Int || t == MpType::Float;
    case Kind::Int:
      return t == MpType::Int;
    case Kind::Bool:
      return t == MpType::Bool;
    case Kind::Date:
      return t == MpType::Date;
    case Kind::Array:
      return t == MpType::Array;
    case Kind::Object:
      return t == MpType::Map;
    case Kind::ObjectId:
      return t == MpType::Str && is_object_id(v.as_str());
    case Kind::Binary:
      return t == MpType::Bin;
  }
  return false;
}

// UTF-8 code points: every byte that is not a continuation byte (10xxxxxx) starts one.
int64_t code_points(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A short text for a bound in a reason ("0", "1.5", "2024-01-01T00:00:00.000Z").
std::string render_scalar(MpView v) {
  if (v.type() == MpType::Int) return std::to_string(v.as_int());
  if (v.type() == MpType::Date) return format_iso_date(v.as_date());
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v.as_double());
  return std::string(buf, r.ptr);
}

struct FieldRule {
  FieldPath path;
  Kind kind = Kind::Any;
  bool required = false;
  std::string min, max;  // encoded operands, empty when unset
  std::string min_reason, max_reason;
  int64_t min_len = -1, max_len = -1;
  std::string min_len_reason, max_len_reason;
  std::string enum_values;  // encoded array, empty when unset
  std::unique_ptr<RE2> match;
  std::string match_reason;
  std::optional<Value> def;
};

// Issues found by validate. Allocates only when an issue is added.
class Issues {
 public:
  void add(std::string_view path, std::string reason) {
    list_.push_back(ValidationIssue{std::string(path), std::move(reason)});
  }
  bool empty() const { return list_.empty(); }
  std::vector<ValidationIssue>& list() { return list_; }

  Status to_status() {
    if (list_.empty()) return Status::OK();
    const ValidationIssue& first = list_.front();
    std::string msg = "document failed validation: '" + first.path + "': " + first.reason;
    if (list_.size() > 1) msg += " (and " + std::to_string(list_.size() - 1) + " more)";
    Status s = make_status(ErrorCode::DocumentValidationFailure, std::move(msg));
    s.errors = std::move(list_);
    return s;
  }

 private:
  std::vector<ValidationIssue> list_;
};

// Checks the constraints after the type: bounds, lengths, enum, match.
void check_constraints(const FieldRule& r, MpView v, Issues& out) {
  if (r.min.empty() && r.max.empty() && r.min_len < 0 && r.max_len < 0 && r.enum_values.empty() &&
      !r.match)
    return;  // a type alone (the usual rule)
  MpType t = v.type();
  int rank = type_rank(t);
  if (!r.min.empty()) {
    MpView b(r.min);
    if (type_rank(b.type()) == rank && compare_values(v, b) < 0)
      out.add(r.path.dotted, r.min_reason);
  }
  if (!r.max.empty()) {
    MpView b(r.max);
    if (type_rank(b.type()) == rank && compare_values(v, b) > 0)
      out.add(r.path.dotted, r.max_reason);
  }
  if ((r.min_len >= 0 || r.max_len >= 0) && (t == MpType::Str || t == MpType::Array)) {
    int64_t len = t == MpType::Str ? code_points(v.as_str()) : int64_t(v.count());
    if (r.min_len >= 0 && len < r.min_len) out.add(r.path.dotted, r.min_len_reason);
    if (r.max_len >= 0 && len > r.max_len) out.add(r.path.dotted, r.max_len_reason);
  }
  if (!r.enum_values.empty()) {
    bool found = false;
    ArrayIter it{MpView(r.enum_values)};
    MpView e;
    while (!found && it.next(e)) found = values_equal(v, e);
    if (!found) out.add(r.path.dotted, "must be one of the enum values");
  }
  if (r.match && t == MpType::Str) {
    std::string_view s = v.as_str();
    if (!RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *r.match))
      out.add(r.path.dotted, r.match_reason);
  }
}

// Checks one present, non-nil value against its rule.
void check_value(const FieldRule& r, MpView v, Issues& out) {
  if (!kind_accepts(r.kind, v)) {
    std::string reason = "expected ";
    reason += kind_name(r.kind);
    if (r.kind == Kind::ObjectId) reason += " (24 hex digits)";
    reason += ", got ";
    reason += mp_type_name(v.type());
    out.add(r.path.dotted, std::move(reason));
    return;
  }
  check_constraints(r, v, out);
}

// ---- parsing helpers ----

[[noreturn]] void field_fail(ErrorCode code, const std::string& path, std::string_view what) {
  fail(code, "schema field '" + path + "': " + std::string(what));
}

FieldPath parse_path(std::string_view dotted, std::string_view context) {
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string_view part = dotted.substr(start, dot == std::string_view::npos ? dot : dot - start);
    std::string_view problem = field_name_problem(part);
    if (!problem.empty())
      fail(ErrorCode::BadValue, std::string(context) + ": path '" + std::string(dotted) +
                                    "' is not a valid field path (" + std::string(problem) + ")");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return FieldPath::parse(dotted);
}

bool expect_bool(MpView v, const std::string& path, std::string_view opt) {
  if (v.type() != MpType::Bool)
    field_fail(ErrorCode::TypeMismatch, path, std::string(opt) + " must be a bool");
  return v.as_bool();
}

Kind parse_kind(MpView v, const std::string& path) {
  if (v.type() != MpType::Str)
    field_fail(ErrorCode::TypeMismatch, path, "type must be a string naming a type");
  std::string_view s = v.as_str();
  for (const auto& kn : kKinds)
    if (kn.name == s) return kn.kind;
  field_fail(ErrorCode::BadValue, path,
             "unknown type '" + std::string(s) +
                 "' (expected string, number, int, bool, date, array, object, objectId, "
                 "binary or any)");
}

// The options of one field, as views; the rule is built once all are known (type first).
struct FieldOptions {
  MpView type, required, def, unique, index, min, max, min_len, max_len, enum_values, match;
};

MpView* option_slot(FieldOptions& o, std::string_view key) {
  if (key == "type") return &o.type;
  if (key == "required") return &o.required;
  if (key == "default") return &o.def;
  if (key == "unique") return &o.unique;
  if (key == "index") return &o.index;
  if (key == "min") return &o.min;
  if (key == "max") return &o.max;
  if (key == "minLength") return &o.min_len;
  if (key == "maxLength") return &o.max_len;
  if (key == "enum") return &o.enum_values;
  if (key == "match") return &o.match;
  return nullptr;
}

FieldOptions collect_options(MpView spec, const std::string& path) {
  FieldOptions o;
  if (spec.type() == MpType::Str) {
    o.type = spec;  // shorthand: {name: "string"}
    return o;
  }
  if (spec.type() != MpType::Map)
    field_fail(ErrorCode::TypeMismatch, path, "expected a type name or a map of options");
  MapIter it(spec);
  std::string_view key;
  MpView val;
  while (it.next(key, val)) {
    MpView* slot = option_slot(o, key);
    if (!slot)
      field_fail(ErrorCode::BadValue, path,
                 "unknown option '" + std::string(key) +
                     "' (expected type, required, default, unique, index, min, max, minLength, "
                     "maxLength, enum or match)");
    if (slot->valid()) field_fail(ErrorCode::BadValue, path, std::string(key) + " given twice");
    *slot = val;
  }
  return o;
}

// min or max: a number for number/int fields, a date for date fields, either for `any`.
void parse_bound(FieldRule& r, MpView v, bool is_min) {
  const std::string& path = r.path.dotted;
  std::string_view opt = is_min ? "min" : "max";
  MpType t = v.type();
  bool numeric = t == MpType::Int || t == MpType::Float;
  switch (r.kind) {
    case Kind::Number:
    case Kind::Int:
      if (!numeric)
        field_fail(ErrorCode::TypeMismatch, path, std::string(opt) + " must be a number");
      break;
    case Kind::Date:
      if (t != MpType::Date)
        field_fail(ErrorCode::TypeMismatch, path, std::string(opt) + " must be a date");
      break;
    case Kind::Any:
      if (!numeric && t != MpType::Date)
        field_fail(ErrorCode::TypeMismatch, path, std::string(opt) + " must be a number or a date");
      break;
    default:
      field_fail(ErrorCode::BadValue, path,
                 std::string(opt) + " applies to number, int, date and any fields, not " +
                     std::string(kind_name(r.kind)));
  }
  if (t == MpType::Float && std::isnan(v.as_double()))
    field_fail(ErrorCode::BadValue, path, std::string(opt) + " must not be NaN");
  (is_min ? r.min : r.max) = std::string(v.bytes());
  (is_min ? r.min_reason : r.max_reason) =
      std::string(is_min ? "must be >= " : "must be <= ") + render_scalar(v);
}

void parse_length(FieldRule& r, MpView v, bool is_min) {
  const std::string& path = r.path.dotted;
  std::string opt = is_min ? "minLength" : "maxLength";
  if (r.kind != Kind::String && r.kind != Kind::Array && r.kind != Kind::Any)
    field_fail(
        ErrorCode::BadValue, path,
        opt + " applies to string, array and any fields, not " + std::string(kind_name(r.kind)));
  if (v.type() != MpType::Int) field_fail(ErrorCode::TypeMismatch, path, opt + " must be an int");
  if (v.as_int() < 0) field_fail(ErrorCode::BadValue, path, opt + " must not be negative");
  (is_min ? r.min_len : r.max_len) = v.as_int();
  (is_min ? r.min_len_reason : r.max_len_reason) =
      std::string(is_min ? "length must be >= " : "length must be <= ") +
      std::to_string(v.as_int());
}

void parse_match(FieldRule& r, MpView v) {
  const std::string& path = r.path.dotted;
  if (r.kind != Kind::String && r.kind != Kind::Any)
    field_fail(ErrorCode::BadValue, path,
               "match applies to string and any fields, not " + std::string(kind_name(r.kind)));
  if (v.type() != MpType::Str)
    field_fail(ErrorCode::TypeMismatch, path, "match must be a string (an RE2 pattern)");
  std::string_view pat = v.as_str();
  if (pat.size() > (32u << 10))  // the same limits as a filter's $regex
    field_fail(ErrorCode::BadValue, path, "match pattern is longer than 32 KiB");
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(8 << 20);
  auto re = std::make_unique<RE2>(re2::StringPiece(pat.data(), pat.size()), opts);
  if (re->error_code() == RE2::ErrorPatternTooLarge)
    field_fail(ErrorCode::BadValue, path,
               "match pattern is too complex: its compiled program exceeds the 8 MiB regex "
               "memory limit (RE2 max_mem)");
  if (!re->ok())
    field_fail(ErrorCode::BadValue, path,
               "bad match pattern /" + std::string(pat) + "/: " + re->error());
  r.match = std::move(re);
  r.match_reason = "does not match /" + std::string(pat) + "/";
}

// Builds a rule from its options; the default is checked against the rule itself.
FieldRule build_rule(FieldPath path, const FieldOptions& o) {
  FieldRule r;
  r.path = std::move(path);
  const std::string& p = r.path.dotted;
  if (o.type.valid()) r.kind = parse_kind(o.type, p);
  if (o.required.valid()) r.required = expect_bool(o.required, p, "required");
  if (o.min.valid()) parse_bound(r, o.min, true);
  if (o.max.valid()) parse_bound(r, o.max, false);
  if (!r.min.empty() && !r.max.empty() && compare_values(MpView(r.min), MpView(r.max)) > 0)
    field_fail(ErrorCode::BadValue, p, "min is greater than max");
  if (o.min_len.valid()) parse_length(r, o.min_len, true);
  if (o.max_len.valid()) parse_length(r, o.max_len, false);
  if (r.min_len >= 0 && r.max_len >= 0 && r.min_len > r.max_len)
    field_fail(ErrorCode::BadValue, p, "minLength is greater than maxLength");
  if (o.enum_values.valid()) {
    if (o.enum_values.type() != MpType::Array)
      field_fail(ErrorCode::TypeMismatch, p, "enum must be an array of values");
    if (o.enum_values.count() == 0) field_fail(ErrorCode::BadValue, p, "enum must not be empty");
    r.enum_values = std::string(o.enum_values.bytes());
  }
  if (o.match.valid()) parse_match(r, o.match);
  if (o.def.valid()) {
    if (o.def.type() != MpType::Nil) {
      Issues issues;
      check_value(r, o.def, issues);
      if (!issues.empty())
        field_fail(ErrorCode::BadValue, p, "default is not valid: " + issues.list()[0].reason);
    }
    r.def = Value::from(o.def);
  }
  return r;
}

// ---- indexes ----

bool is_id_only(const IndexSpec& s) {
  return s.fields.size() == 1 && s.fields[0].first.dotted == "_id" && s.ttl_seconds < 0;
}

// Appends `spec` unless an identical index is there; the same name with other options is
// BadValue. An index on `_id` alone is implicit and dropped.
void add_index(std::vector<IndexSpec>& out, IndexSpec spec) {
  if (is_id_only(spec)) return;
  std::string name = spec.name();
  for (const IndexSpec& o : out) {
    if (o.same_as(spec)) return;
    if (o.name() == name)
      fail(ErrorCode::BadValue,
           "schema declares index '" + name + "' twice with different options");
  }
  out.push_back(std::move(spec));
}

int parse_direction(MpView v, const std::string& where, std::string_view field) {
  bool num = v.type() == MpType::Int || v.type() == MpType::Float;
  double d = num ? v.as_double() : 0;
  if (d != 1 && d != -1)
    fail(ErrorCode::BadValue,
         where + ": direction of '" + std::string(field) + "' must be 1 or -1");
  return d > 0 ? 1 : -1;
}

void parse_index_fields(IndexSpec& spec, MpView fields, const std::string& where) {
  if (fields.type() != MpType::Map)
    fail(ErrorCode::TypeMismatch, where + ": fields must be a map {path: 1 | -1}");
  if (fields.count() == 0) fail(ErrorCode::BadValue, where + ": fields must not be empty");
  MapIter it(fields);
  std::string_view key;
  MpView dir;
  while (it.next(key, dir)) {
    FieldPath fp = parse_path(key, where);
    for (const auto& f : spec.fields)
      if (f.first.dotted == fp.dotted)
        fail(ErrorCode::BadValue, where + ": field '" + fp.dotted + "' is listed twice");
    int d = parse_direction(dir, where, key);
    spec.fields.emplace_back(std::move(fp), d);
  }
}

IndexSpec parse_index_entry(MpView e, size_t i) {
  std::string where = "schema indexes[" + std::to_string(i) + "]";
  if (e.type() != MpType::Map) fail(ErrorCode::TypeMismatch, where + " must be a map");
  IndexSpec spec;
  MpView fields;
  MapIter it(e);
  std::string_view key;
  MpView v;
  while (it.next(key, v)) {
    if (key == "fields") {
      fields = v;
    } else if (key == "unique") {
      if (v.type() != MpType::Bool)
        fail(ErrorCode::TypeMismatch, where + ": unique must be a bool");
      spec.unique = v.as_bool();
    } else if (key == "ttlSeconds") {
      if (v.type() != MpType::Int)
        fail(ErrorCode::TypeMismatch, where + ": ttlSeconds must be an integer");
      if (v.as_int() < 0) fail(ErrorCode::BadValue, where + ": ttlSeconds must not be negative");
      spec.ttl_seconds = v.as_int();
    } else {
      fail(ErrorCode::BadValue, where + ": unknown option '" + std::string(key) +
                                    "' (expected fields, unique or ttlSeconds)");
    }
  }
  if (!fields.valid()) fail(ErrorCode::BadValue, where + ": fields is required");
  parse_index_fields(spec, fields, where);
  if (spec.ttl_seconds >= 0 && spec.fields.size() != 1)
    fail(ErrorCode::BadValue, where + ": ttlSeconds is only allowed on a single-field index");
  return spec;
}

// Sets a default at `path` in the map `doc` when the path is missing, creating intermediate
// maps. A path through a scalar (or past the end of an array) cannot hold it: left alone, and
// validation reports the field if it is required.
void apply_default(Value& doc, const FieldPath& path, const Value& def) {
  Value* cur = &doc;
  for (size_t i = 0; i < path.size(); ++i) {
    bool last = i + 1 == path.size();
    Value* next = nullptr;
    if (cur->is_map()) {
      next = cur->find(path.parts[i]);
      if (!next) {
        if (last) {
          cur->set(path.parts[i], def);
          return;
        }
        next = &cur->set(path.parts[i], Value::map());
      }
    } else if (cur->is_array() && path.positions[i] >= 0 &&
               size_t(path.positions[i]) < cur->as_array().size()) {
      next = &cur->as_array()[size_t(path.positions[i])];
    } else {
      return;
    }
    if (last) return;  // present: never overridden
    cur = next;
  }
}

// ---- the schema ----

class SchemaImpl final : public Schema {
 public:
  void parse_top(MpView schema);

  const std::string& encoded() const override { return encoded_; }
  const std::vector<IndexSpec>& indexes() const override { return indexes_; }
  bool timestamps() const override { return timestamps_; }
  bool inserts_unchanged() const override { return !has_defaults_ && !timestamps_; }
  void prepare_insert(Value& doc, Date now) const override;
  void prepare_update(Value& doc, Date now) const override;
  Status validate(MpView doc) const override;
  const std::vector<FieldPath>& rule_paths() const override { return rule_paths_; }
  Status validate(MpView doc, std::span<const MpView> values) const override;
  void collect_rule_paths() {
    for (const FieldRule& r : rules_) rule_paths_.push_back(r.path);
  }

  std::string encoded_ = std::string("\x80", 1);

 private:
  void parse_fields(MpView fields, std::vector<IndexSpec>& field_indexes);
  void parse_indexes(MpView list, std::vector<IndexSpec>& listed);
  void check_strict(MpView doc, Issues& out) const;

  std::vector<FieldRule> rules_;
  std::vector<FieldPath> rule_paths_;  // rules_[i].path
  std::vector<IndexSpec> indexes_;
  std::vector<std::string> top_names_;  // sorted: the top-level names strict allows
  bool timestamps_ = false;
  bool strict_ = false;
  bool has_defaults_ = false;
};

void SchemaImpl::parse_top(MpView schema) {
  if (schema.type() != MpType::Map) fail(ErrorCode::TypeMismatch, "schema must be a map");
  encoded_ = std::string(schema.bytes());
  MpView fields, indexes, timestamps, strict;
  MapIter it(schema);
  std::string_view key;
  MpView v;
  while (it.next(key, v)) {
    MpView* slot = key == "fields"       ? &fields
                   : key == "indexes"    ? &indexes
                   : key == "timestamps" ? &timestamps
                   : key == "strict"     ? &strict
                                         : nullptr;
    if (!slot)
      fail(ErrorCode::BadValue, "unknown schema option '" + std::string(key) +
                                    "' (expected fields, indexes, timestamps or strict)");
    if (slot->valid())
      fail(ErrorCode::BadValue, "schema option '" + std::string(key) + "' given twice");
    *slot = v;
  }
  auto flag = [](MpView f, const char* name) {
    if (!f.valid()) return false;
    if (f.type() != MpType::Bool)
      fail(ErrorCode::TypeMismatch, std::string(name) + " must be a bool");
    return f.as_bool();
  };
  timestamps_ = flag(timestamps, "schema timestamps");
  strict_ = flag(strict, "schema strict");
  std::vector<IndexSpec> field_indexes, listed;
  if (fields.valid()) parse_fields(fields, field_indexes);
  if (indexes.valid()) parse_indexes(indexes, listed);
  for (auto& s : field_indexes) add_index(indexes_, std::move(s));
  for (auto& s : listed) add_index(indexes_, std::move(s));
  top_names_.push_back("_id");
  if (timestamps_) top_names_.insert(top_names_.end(), {"createdAt", "updatedAt"});
  std::sort(top_names_.begin(), top_names_.end());
  top_names_.erase(std::unique(top_names_.begin(), top_names_.end()), top_names_.end());
}

void SchemaImpl::parse_fields(MpView fields, std::vector<IndexSpec>& field_indexes) {
  if (fields.type() != MpType::Map)
    fail(ErrorCode::TypeMismatch, "schema fields must be a map {path: options}");
  MapIter it(fields);
  std::string_view key;
  MpView spec;
  while (it.next(key, spec)) {
    FieldPath path = parse_path(key, "schema fields");
    for (const FieldRule& r : rules_)
      if (r.path.dotted == path.dotted)
        field_fail(ErrorCode::BadValue, path.dotted, "declared twice");
    FieldOptions o = collect_options(spec, path.dotted);
    bool unique = o.unique.valid() && expect_bool(o.unique, path.dotted, "unique");
    bool index = o.index.valid() && expect_bool(o.index, path.dotted, "index");
    if (unique || index) {
      IndexSpec s;
      s.fields.emplace_back(path, 1);
      s.unique = unique;
      field_indexes.push_back(std::move(s));
    }
    top_names_.push_back(path.parts[0]);
    rules_.push_back(build_rule(std::move(path), o));
    has_defaults_ |= rules_.back().def.has_value();
  }
}

void SchemaImpl::parse_indexes(MpView list, std::vector<IndexSpec>& listed) {
  if (list.type() != MpType::Array)
    fail(ErrorCode::TypeMismatch,
         "schema indexes must be an array of {fields, unique, ttlSeconds}");
  ArrayIter it(list);
  MpView e;
  size_t i = 0;
  while (it.next(e)) listed.push_back(parse_index_entry(e, i++));
}

void SchemaImpl::prepare_insert(Value& doc, Date now) const {
  if (!doc.is_map()) return;
  if (has_defaults_)
    for (const FieldRule& r : rules_)
      if (r.def) apply_default(doc, r.path, *r.def);
  if (!timestamps_) return;
  if (!doc.find("createdAt")) doc.set("createdAt", Value::date(now));
  if (!doc.find("updatedAt")) doc.set("updatedAt", Value::date(now));
}

void SchemaImpl::prepare_update(Value& doc, Date now) const {
  if (!timestamps_ || !doc.is_map()) return;
  if (!doc.find("createdAt")) doc.set("createdAt", Value::date(now));
  doc.set("updatedAt", Value::date(now));
}

void SchemaImpl::check_strict(MpView doc, Issues& out) const {
  MapIter it(doc);
  std::string_view key;
  MpView v;
  while (it.next(key, v))
    if (!std::binary_search(top_names_.begin(), top_names_.end(), key, std::less<>()))
      out.add(key, "field is not in the schema (strict)");
}

Status SchemaImpl::validate(MpView doc) const {
  absl::InlinedVector<MpView, 16> values;
  values.reserve(rules_.size());
  for (const FieldRule& r : rules_) values.push_back(get_path(doc, r.path));
  return validate(doc, values);
}

Status SchemaImpl::validate(MpView doc, std::span<const MpView> values) const {
  Issues issues;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FieldRule& r = rules_[i];
    MpView v = values[i];
    if (!v.valid() || v.type() == MpType::Nil) {
      if (r.required) issues.add(r.path.dotted, "is required");
      continue;
    }
    check_value(r, v, issues);
  }
  if (strict_ && doc.type() == MpType::Map) check_strict(doc, issues);
  return issues.to_status();
}

}  // namespace

std::string IndexSpec::name() const {
  std::string n;
  for (const auto& [path, dir] : fields) {
    if (!n.empty()) n += '_';
    n += path.dotted;
    n += dir < 0 ? "_-1" : "_1";
  }
  return n;
}

bool IndexSpec::same_as(const IndexSpec& o) const {
  if (unique != o.unique || ttl_seconds != o.ttl_seconds || fields.size() != o.fields.size())
    return false;
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].first.dotted != o.fields[i].first.dotted ||
        fields[i].second != o.fields[i].second)
      return false;
  return true;
}

std::shared_ptr<const Schema> Schema::parse(MpView schema) {
  auto s = std::make_shared<SchemaImpl>();
  if (schema.valid()) s->parse_top(schema);
  s->collect_rule_paths();
  return s;
}

}  // namespace mg
