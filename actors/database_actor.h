// actors/database_actor.h — one actor per database: its storage config and its catalog (the
// models that exist and their schemas, storage/catalog.h).
//
// Model actors ask it (`schema_atom`, model, exists, schema) whenever a model is created,
// redefined or dropped; for a persistent database it rewrites the catalog file atomically and
// then answers true, so a model's acknowledgements wait until a restart would reopen it with
// its schema. It is never on the path
// of a document operation, except to route a $lookup: model actors announce themselves
// (`model_atom`) and it forwards (`lookup_atom`) a model's query to another model's actor,
// so no actor ever touches another's documents.
#pragma once

#include <caf/all.hpp>

#include <string>

#include "storage/catalog.h"

namespace mg {

struct DatabaseConfig {
  std::string name;
  std::string storage;  // memory | file | sqlite | wiredtiger
  std::string options;  // encoded MessagePack map, defaults filled in
  std::string dir;      // <data-dir>/<db> for a persistent database, else empty
};

// `catalog` is the database's current catalog (as read at start-up, or new).
caf::actor spawn_database_actor(caf::actor_system& sys, DatabaseConfig cfg, Catalog catalog);

}  // namespace mg
