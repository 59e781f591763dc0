// clients/cli/main.cc — `memgoose`, the command-line client of memgoosed (like redis-cli).
//
//   memgoose [--endpoint tcp://127.0.0.1:7377] [--timeout MS] <command> ...
//     ping | hello | stats
//     insert db.Model '<doc or [docs]>'
//     find db.Model ['<filter>'] [--sort JSON] [--skip N] [--limit N] [--projection JSON]
//     count db.Model ['<filter>']
//     update db.Model '<filter>' '<update>' [--many] [--upsert]
//     delete db.Model '<filter>' [--many]
//     drop db.Model | drop db
//     import db.Model file.ndjson [--batch 1000]
//     export db.Model [--filter JSON]
//     watch db.Model [--after N] [--pub tcp://127.0.0.1:7378]
//     createdb DB [STORAGE] [--options JSON] [--from-backup NAME]
//     backup DB NAME         (online backup to <data-dir>/_backups/NAME)
//     migrate SRC_DB.Model DST_DB[.Model] [--batch 1000]   (progress bar on stderr)
//     keygen NAME            (writes NAME.pub and NAME.key, a CURVE key pair, mode 0600)
//   CURVE (a daemon with curve_secret_key): --server-key SERVER.pub --client-key CLIENT.key
//
// Design: CLI11 parses into plain structs; the matching run_* (commands.cc, import.cc, watch.cc)
// does the work. Every failure ends here and is printed as "<ErrorName>: <message>" on stderr:
// exit 1 when the server refused or did not answer, exit 2 for a usage or input mistake.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <utility>
#include <vector>

#include "clients/cli/cli.h"

namespace {

using namespace mg::cli;

struct Args {
  Connection conn;
  std::string ns, json, filter, target;
  FindOptions find;
  UpdateOptions update;
  ImportOptions import;
  WatchArgs watch;
  CreateDbOptions createdb;
  MigrateOptions migrate;
  bool many = false;
};

using Command = std::pair<CLI::App*, std::function<int()>>;

void add_server_ops(CLI::App& app, Args& a, std::vector<Command>& cmds) {
  for (const char* op : {"ping", "hello", "stats"}) {
    std::string name = op;
    cmds.emplace_back(app.add_subcommand(name, "send '" + name + "', print the reply"),
                      [&a, name] { return run_server_op(a.conn, name); });
  }
}

void add_document_ops(CLI::App& app, Args& a, std::vector<Command>& cmds) {
  auto* insert = app.add_subcommand("insert", "insert a document or an array of documents");
  insert->add_option("namespace", a.ns, "db.Model")->required();
  insert->add_option("json", a.json, "Extended JSON document or array")->required();
  cmds.emplace_back(insert, [&a] { return run_insert(a.conn, a.ns, a.json); });

  auto* find = app.add_subcommand("find", "print matching documents, one JSON line each");
  find->add_option("namespace", a.find.ns, "db.Model")->required();
  find->add_option("filter", a.find.filter, "filter (Extended JSON), default {}");
  find->add_option("--sort", a.find.sort, "sort, e.g. {\"age\":-1}");
  find->add_option("--skip", a.find.skip, "documents to skip")->check(CLI::NonNegativeNumber);
  find->add_option("--limit", a.find.limit, "at most N documents (0: all)")
      ->check(CLI::NonNegativeNumber);
  find->add_option("--projection", a.find.projection, "projection, e.g. {\"name\":1}");
  cmds.emplace_back(find, [&a] { return run_find(a.conn, a.find); });

  auto* count = app.add_subcommand("count", "print the number of matching documents");
  count->add_option("namespace", a.ns, "db.Model")->required();
  count->add_option("filter", a.filter, "filter (Extended JSON), default {}");
  cmds.emplace_back(count, [&a] { return run_count(a.conn, a.ns, a.filter); });

  auto* agg = app.add_subcommand("aggregate", "run a pipeline, print its documents as JSON lines");
  agg->add_option("namespace", a.ns, "db.Model")->required();
  agg->add_option("pipeline", a.json, "pipeline (Extended JSON array of stages)")->required();
  cmds.emplace_back(agg, [&a] { return run_aggregate(a.conn, a.ns, a.json); });

  auto* update = app.add_subcommand("update", "update the first (or every) matching document");
  update->add_option("namespace", a.update.ns, "db.Model")->required();
  update->add_option("filter", a.update.filter, "filter (Extended JSON)")->required();
  update->add_option("update", a.update.update, "update operators, e.g. {\"$set\":{...}}")
      ->required();
  update->add_flag("--many", a.update.many, "update every matching document");
  update->add_flag("--upsert", a.update.upsert, "insert when nothing matches");
  cmds.emplace_back(update, [&a] { return run_update(a.conn, a.update); });

  auto* del = app.add_subcommand("delete", "delete the first (or every) matching document");
  del->add_option("namespace", a.ns, "db.Model")->required();
  del->add_option("filter", a.filter, "filter (Extended JSON)")->required();
  del->add_flag("--many", a.many, "delete every matching document");
  cmds.emplace_back(del, [&a] { return run_delete(a.conn, a.ns, a.filter, a.many); });
}

void add_admin_ops(CLI::App& app, Args& a, std::vector<Command>& cmds) {
  auto* drop = app.add_subcommand("drop", "drop a model (db.Model) or a database (db)");
  drop->add_option("target", a.target, "db.Model or db")->required();
  cmds.emplace_back(drop, [&a] { return run_drop(a.conn, a.target); });

  auto* imp = app.add_subcommand("import", "insert every line of an NDJSON file");
  imp->add_option("namespace", a.import.ns, "db.Model")->required();
  imp->add_option("file", a.import.path, "NDJSON file, '-' for standard input")->required();
  imp->add_option("--batch", a.import.batch, "documents per insertMany")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmds.emplace_back(imp, [&a] { return run_import(a.conn, a.import); });

  auto* exp = app.add_subcommand("export", "print every matching document as NDJSON");
  exp->add_option("namespace", a.ns, "db.Model")->required();
  exp->add_option("--filter", a.filter, "filter (Extended JSON), default {}");
  cmds.emplace_back(exp, [&a] { return run_export(a.conn, a.ns, a.filter); });

  auto* watch = app.add_subcommand("watch", "print change events, one JSON line each, until ^C");
  watch->add_option("namespace", a.watch.ns, "db.Model")->required();
  watch
      ->add_option("--after", a.watch.after,
                   "replay the retained events after this seq first "
                   "(default: only new events)")
      ->check(CLI::NonNegativeNumber);
  watch->add_option("--pub", a.watch.pub, "change-stream endpoint of the daemon")
      ->capture_default_str();
  cmds.emplace_back(watch, [&a] { return run_watch(a.conn, a.watch); });

  auto* cdb = app.add_subcommand("createdb", "create a database, or restore one from a backup");
  cdb->add_option("db", a.createdb.db, "database name")->required();
  cdb->add_option("storage", a.createdb.storage, "memory, file, sqlite, wiredtiger, ...");
  cdb->add_option("--options", a.createdb.options, "storage options (Extended JSON object)");
  cdb->add_option("--from-backup", a.createdb.from_backup, "restore the backup of this name");
  cmds.emplace_back(cdb, [&a] { return run_createdb(a.conn, a.createdb); });

  auto* bk =
      app.add_subcommand("backup", "online backup of a database to <data-dir>/_backups/NAME");
  bk->add_option("db", a.ns, "database")->required();
  bk->add_option("name", a.target, "backup name")->required();
  cmds.emplace_back(bk, [&a] { return run_backup(a.conn, a.ns, a.target); });

  auto* mig = app.add_subcommand("migrate", "copy a model to another database, verified");
  mig->add_option("source", a.migrate.src, "SRC_DB.Model")->required();
  mig->add_option("destination", a.migrate.dst, "DST_DB or DST_DB.Model")->required();
  mig->add_option("--batch", a.migrate.batch, "documents per batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmds.emplace_back(mig, [&a] { return run_migrate(a.conn, a.migrate); });

  auto* keygen = app.add_subcommand("keygen", "write a CURVE key pair: NAME.pub and NAME.key");
  keygen->add_option("name", a.target, "path and base name of the two files")->required();
  cmds.emplace_back(keygen, [&a] { return run_keygen(a.target); });
}

int run(const std::vector<Command>& cmds) {
  try {
    for (const auto& [sub, fn] : cmds)
      if (sub->parsed()) return fn();
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s: %s\n", e.name().c_str(), e.what());
    return 2;
  } catch (const mg::client::Error& e) {
    std::fprintf(stderr, "%s: %s\n", e.name().c_str(), e.message().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "InternalError: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"memgoose: the command-line client of memgoosed"};
  app.fallthrough();  // global options may also follow the command
  app.require_subcommand(1);
  Args a;
  app.add_option("-e,--endpoint", a.conn.endpoint, "request endpoint of the daemon")
      ->capture_default_str();
  app.add_option("--timeout", a.conn.timeout_ms, "milliseconds to wait for a reply")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--server-key", a.conn.server_key,
                 "CURVE: the daemon's public key file (with --client-key)");
  app.add_option("--client-key", a.conn.client_key,
                 "CURVE: this client's secret key file, its public key on the daemon's "
                 "allow-list (with --server-key)");
  std::vector<Command> cmds;
  add_server_ops(app, a, cmds);
  add_document_ops(app, a, cmds);
  add_admin_ops(app, a, cmds);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "BadValue: %s\nRun with --help for more information.\n", e.what());
    return 2;
  }
  return run(cmds);
}
