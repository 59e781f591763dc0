#include "actors/database_actor.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

#include "actors/messages.h"

namespace mg {

namespace {
struct DatabaseState {
  DatabaseConfig cfg;
  Catalog catalog;
  std::map<std::string, caf::actor, std::less<>> models;  // announced by the model actors
  bool dropping = false;  // dropDatabase: the directory moves away, the catalog is not written
  static inline const char* name = "database";
};

void update(DatabaseState& st, const std::string& model, bool exists, const std::string& schema) {
  auto& models = st.catalog.models;
  auto it = std::find_if(models.begin(), models.end(),
                         [&](const CatalogModel& m) { return m.name == model; });
  if (exists) {
    if (it == models.end())
      models.push_back(CatalogModel{model, schema});
    else
      it->schema = schema;
  } else if (it != models.end()) {
    models.erase(it);
  }
  // Once dropped, `dir` may hold a new database of the same name: never write there.
  if (st.cfg.dir.empty() || st.dropping) return;
  Status s = write_catalog(st.cfg.dir, st.catalog);
  if (!s.ok()) spdlog::error("database {}: {}", st.cfg.name, s.message);
}
}  // namespace

caf::actor spawn_database_actor(caf::actor_system& sys, DatabaseConfig cfg, Catalog catalog) {
  return sys.spawn([cfg = std::move(cfg), catalog = std::move(catalog)](
                       caf::stateful_actor<DatabaseState>* self) -> caf::behavior {
    self->state.cfg = cfg;
    self->state.catalog = catalog;
    return {
        // Answers once the catalog is durable: the model actor holds its replies until then.
        [=](schema_atom, const std::string& model, bool exists, const std::string& schema) {
          update(self->state, model, exists, schema);
          return true;
        },
        [=](model_atom, const std::string& model, const caf::actor& actor) {
          self->state.models[model] = actor;
        },
        // $lookup: the documents of `model` matching `filter`, asked of its actor (never read
        // here); a model without an actor has none.
        [=](lookup_atom, const std::string& model,
            const std::string& filter) -> caf::result<LookupDocs> {
          auto it = self->state.models.find(model);
          if (it == self->state.models.end()) return LookupDocs{};
          auto rp = self->make_response_promise<LookupDocs>();
          self->request(it->second, caf::infinite, lookup_atom::value, filter)
              .then([=](LookupDocs& d) mutable { rp.deliver(std::move(d)); },
                    [=](caf::error&) mutable { rp.deliver(LookupDocs{}); });
          return rp;
        },
        // dropDatabase (Registry::drop_database), once the model actors have closed their
        // storages: from now on the catalog is not written (its directory is about to move).
        [=](drop_atom) -> bool {
          self->state.dropping = true;
          return true;
        },
        // Then the directory, moved aside to `trash` (or left in place if it could not be
        // moved), is removed here, off the front door's thread.
        [=](drop_atom, const std::string& trash) {
          if (!trash.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(trash, ec);
            if (ec) spdlog::error("dropDatabase {}: {}", trash, ec.message());
          }
          self->quit();
        },
    };
  });
}

}  // namespace mg
