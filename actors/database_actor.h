// actors/database_actor.h — one actor per database: its storage config and its catalog (the
// models that exist and their schemas).
//
// Model actors tell it (`schema_atom`, model, exists, schema) whenever a model is created,
// redefined or dropped; it keeps the catalog so a persistent database can be reopened without
// any client redefining its models. It is never on the path of a document operation.
#pragma once

#include <caf/all.hpp>

#include <map>
#include <string>

namespace mg {

struct DatabaseConfig {
  std::string name;
  std::string storage;  // memory | file | sqlite | wiredtiger
  std::string options;  // encoded MessagePack map, defaults filled in
};

caf::actor spawn_database_actor(caf::actor_system& sys, DatabaseConfig cfg);

}  // namespace mg
