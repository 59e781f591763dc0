// actors/messages.h — the messages exchanged between the front door and the actors (CAF 0.17).
//
// A client request travels as a ClientRequest: the raw body (already validated by the front
// door) and the route of its reply. Internal requests use atoms.
#pragma once

#include <caf/all.hpp>

#include <string>

#include "actors/reply_sink.h"

namespace mg {

struct ClientRequest {
  Route route;
  std::string body;  // one validated MessagePack map
};

using commit_atom = caf::atom_constant<caf::atom("commit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using info_atom = caf::atom_constant<caf::atom("info")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using drop_atom = caf::atom_constant<caf::atom("drop")>;
using schema_atom = caf::atom_constant<caf::atom("schema")>;
using opened_atom = caf::atom_constant<caf::atom("opened")>;

}  // namespace mg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mg::ClientRequest)
