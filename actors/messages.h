// actors/messages.h — the messages exchanged between the front door and the actors (CAF 0.17).
//
// A client request travels as a ClientRequest: the raw body (already validated by the front
// door) and the route of its reply. Internal requests use atoms.
#pragma once

#include <caf/all.hpp>

#include <string>
#include <vector>

#include "actors/reply_sink.h"
#include "core/document.h"

namespace mg {

struct ClientRequest {
  Route route;
  std::string body;  // one validated MessagePack map
};

// The requests for one model that the front door read in one round of its poll loop, in
// arrival order: one message (one mailbox push, at most one wake-up of the model's thread)
// instead of one per request. The model handles them exactly as if they had come one by one.
struct ClientBatch {
  std::vector<ClientRequest> requests;
};

using commit_atom = caf::atom_constant<caf::atom("commit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using info_atom = caf::atom_constant<caf::atom("info")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using drop_atom = caf::atom_constant<caf::atom("drop")>;
using schema_atom = caf::atom_constant<caf::atom("schema")>;
using opened_atom = caf::atom_constant<caf::atom("opened")>;
// A model actor to itself: send the replies it held back while more requests were waiting.
using release_atom = caf::atom_constant<caf::atom("release")>;
// A model's PipelinedStorage finished committing a group (its storage thread sends it).
using landed_atom = caf::atom_constant<caf::atom("landed")>;
// A model actor tells its database actor its handle (`model_atom`, name, actor) when it starts;
// `lookup_atom` asks for the documents of another model of the database for a $lookup:
// (lookup_atom, model, filter) to the database actor, which forwards (lookup_atom, filter) to
// that model's actor. The answer is LookupDocs (empty for a model that does not exist).
using model_atom = caf::atom_constant<caf::atom("model")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;

struct LookupDocs {
  std::vector<DocRef> docs;
};

// Online backup (actors/backup.h): (backup_atom, dir) to a model actor, which copies itself
// into `dir` between two requests and answers backup_model()'s string ("" for a model that
// does not exist).
using backup_atom = caf::atom_constant<caf::atom("backup")>;
// Migration (actors/migrate.h): (page_atom, after_id, limit) to the source model's actor
// answers a MigratePage, its documents in _id order after `after_id` (encoded; "" = from the
// start); (call_atom, body) to the destination's actor runs one request body (defineModel,
// insertMany) there as a client's would be, commits, and answers the reply body.
using page_atom = caf::atom_constant<caf::atom("page")>;
using call_atom = caf::atom_constant<caf::atom("call")>;

struct MigratePage {
  bool exists = false;  // false: the model does not exist (no documents, no schema)
  std::string schema;   // encoded schema
  std::vector<DocRef> docs;
  std::string error;  // the model could not be opened
};

}  // namespace mg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mg::ClientRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mg::ClientBatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mg::LookupDocs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mg::MigratePage)
