#include "actors/database_actor.h"

#include "actors/messages.h"

namespace mg {

namespace {
struct DatabaseState {
  DatabaseConfig cfg;
  std::map<std::string, std::string> catalog;  // model -> encoded schema
  static inline const char* name = "database";
};
}  // namespace

caf::actor spawn_database_actor(caf::actor_system& sys, DatabaseConfig cfg) {
  return sys.spawn([cfg = std::move(cfg)](caf::stateful_actor<DatabaseState>* self)
                       -> caf::behavior {
    self->state.cfg = cfg;
    return {
        [=](schema_atom, const std::string& model, bool exists, const std::string& schema) {
          if (exists) self->state.catalog[model] = schema;
          else self->state.catalog.erase(model);
        },
        [=](drop_atom) -> bool {
          self->quit();
          return true;
        },
    };
  });
}

}  // namespace mg
