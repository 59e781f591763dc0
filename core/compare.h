// core/compare.h — MongoDB's total order over values (CONTRACT.md §4).
//
// nil < numbers (int and float compared by value) < strings (bytewise) < maps < arrays < bin
// < bool < dates. Maps compare pair by pair (type rank of the value, then key, then value),
// arrays element by element; a shorter prefix is smaller. NaN sorts below every other number
// and equals itself, as in MongoDB.
#pragma once

#include "core/msgpack.h"

namespace mg {

// Rank of a type in the order above (0 = nil ... 7 = date). Int and Float share a rank.
int type_rank(MpType t);

// <0, 0, >0 as a is less than, equal to, greater than b.
int compare_values(MpView a, MpView b);

inline bool values_equal(MpView a, MpView b) { return compare_values(a, b) == 0; }

// Compares two numbers by value: int64 and double, without precision loss.
int compare_numbers(MpView a, MpView b);

}  // namespace mg
