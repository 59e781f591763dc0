// actors/model_ops.h — the document operations of CONTRACT.md §5, each a few lines over a
// Collection, so a model actor's behavior reads like the contract's table.
//
// Handlers build the whole reply body (MessagePack) and append the change events of the
// writes they applied. They never throw: any error becomes an error reply.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/aggregate.h"
#include "core/collection.h"
#include "protocol/envelope.h"

namespace mg {

enum class OpKind : uint8_t { Unknown, Read, Write };

// Read for find/findOne/findById/count/distinct/aggregate, Write for inserts, updates, replaces,
// deletes and findOneAndX; Unknown for everything else (including defineModel/dropModel,
// which the model actor handles itself).
OpKind document_op_kind(std::string_view op);

// Runs a document operation on `c`. `wrote` tells whether anything was applied (the caller
// then commits before replying).
std::string run_document_op(Collection& c, const Envelope& env, std::vector<ChangeEvent>& events,
                            bool& wrote);

// The reply of a finished aggregate: {docs}.
std::string aggregate_reply(std::string_view id, const Aggregation& a);

// The reply of a read on a model that does not exist: an empty result of the op's shape
// (arguments are still type-checked).
std::string empty_read_reply(const Envelope& env);

}  // namespace mg
