#include "daemon/config.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <filesystem>

#include "core/msgpack.h"

namespace mg {

namespace {

// TOML value -> MessagePack (for database options).
void toml_to_mp(const toml::node& n, MpWriter& w) {
  if (auto t = n.as_table()) {
    w.map_header(uint32_t(t->size()));
    for (auto& [k, v] : *t) {
      w.str(k.str());
      toml_to_mp(v, w);
    }
  } else if (auto a = n.as_array()) {
    w.array_header(uint32_t(a->size()));
    for (auto& v : *a) toml_to_mp(v, w);
  } else if (auto s = n.as_string()) {
    w.str(s->get());
  } else if (auto i = n.as_integer()) {
    w.integer(i->get());
  } else if (auto f = n.as_floating_point()) {
    w.float64(f->get());
  } else if (auto b = n.as_boolean()) {
    w.boolean(b->get());
  } else {
    throw std::runtime_error("unsupported value type in database options");
  }
}

void load_file(const std::string& file, DaemonConfig& c) {
  toml::table t = toml::parse_file(file);
  if (auto b = t["bind"]; b.is_array()) {
    c.bind.clear();
    for (auto& e : *b.as_array()) c.bind.push_back(e.value<std::string>().value_or(""));
  } else if (auto s = t["bind"].value<std::string>()) {
    c.bind = {*s};
  }
  if (auto s = t["pub"].value<std::string>()) c.pub = *s;
  if (auto s = t["data_dir"].value<std::string>()) c.data_dir = *s;
  if (auto s = t["log_level"].value<std::string>()) c.log_level = *s;
  if (auto v = t["limits"]["max_request_bytes"].value<int64_t>()) c.max_request_bytes = *v;
  if (auto v = t["limits"]["max_inflight_per_model"].value<int64_t>())
    c.max_inflight_per_model = *v;
  if (auto v = t["change_log_size"].value<int64_t>()) c.change_log_size = *v;
  if (auto dbs = t["databases"].as_array()) {
    for (auto& e : *dbs) {
      auto* tbl = e.as_table();
      if (!tbl) throw std::runtime_error("[[databases]] entries must be tables");
      PredefinedDatabase d;
      d.name = (*tbl)["name"].value<std::string>().value_or("");
      d.storage = (*tbl)["storage"].value<std::string>().value_or("memory");
      MpWriter w(d.options);
      if (auto* o = (*tbl)["options"].as_table())
        toml_to_mp(*o, w);
      else
        w.map_header(0);
      c.databases.push_back(std::move(d));
    }
  }
  if (auto plugins = t["plugins"]; plugins) {
    auto* list = plugins.as_array();
    if (!list) throw std::runtime_error("'plugins' must be an array of tables ([[plugins]])");
    for (auto& e : *list) {
      auto* tbl = e.as_table();
      auto p = tbl ? (*tbl)["path"].value<std::string>() : std::nullopt;
      if (!p || p->empty())
        throw std::runtime_error("each [[plugins]] entry needs a path = \"...so\"");
      std::filesystem::path path(*p);
      if (path.is_relative()) path = std::filesystem::path(file).parent_path() / path;
      c.plugins.push_back(path.lexically_normal().string());
    }
  }
}

}  // namespace

ParseOutcome parse_config(int argc, char** argv) {
  ParseOutcome out;
  DaemonConfig c;
  CLI::App app{"memgoosed: a document database daemon (MessagePack over ZeroMQ)"};
  std::vector<std::string> bind;
  std::string pub, data_dir, log_level, config_path;
  int64_t max_request = 0, max_inflight = 0, change_log = -1;
  app.add_option("--bind", bind, "request endpoint (repeatable), default tcp://127.0.0.1:7377");
  app.add_option("--pub", pub, "change-stream endpoint, default tcp://127.0.0.1:7378");
  app.add_option("--data-dir", data_dir, "root of persistent databases, default ./data");
  app.add_option("--config", config_path, "TOML configuration file");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--max-request-bytes", max_request, "largest request accepted (ZMQ_MAXMSGSIZE)");
  app.add_option("--max-inflight-per-model", max_inflight,
                 "requests queued per model before the front door stops reading");
  std::string repair;
  app.add_option("--repair", repair,
                 "repair the file-storage database DB (truncate each model file at its first "
                 "bad record, keeping a copy) and exit; run it while no daemon uses the data dir");
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "load a custom storage strategy from this shared object (repeatable)");
  app.add_option("--change-log-size", change_log,
                 "change events retained per model for `changes` (default 100000)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::printf("%s", app.help().c_str());
    out.exit_code = 0;
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.error = e.what();
    return out;
  }
  try {
    if (!config_path.empty()) load_file(config_path, c);
  } catch (const std::exception& e) {
    out.exit_code = 2;
    out.error = "config file " + config_path + ": " + e.what();
    return out;
  }
  if (!bind.empty()) c.bind = bind;
  if (!pub.empty()) c.pub = pub;
  if (!data_dir.empty()) c.data_dir = data_dir;
  if (!log_level.empty()) c.log_level = log_level;
  if (max_request > 0) c.max_request_bytes = max_request;
  if (max_inflight > 0) c.max_inflight_per_model = max_inflight;
  if (change_log >= 0) c.change_log_size = change_log;
  c.plugins.insert(c.plugins.end(), plugins.begin(), plugins.end());
  c.repair = repair;
  if (c.bind.empty() || c.pub.empty()) {
    out.exit_code = 2;
    out.error = "at least one --bind endpoint and a --pub endpoint are needed";
    return out;
  }
  out.config = std::move(c);
  return out;
}

}  // namespace mg
