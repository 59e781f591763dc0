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

// "0660" -> 0660; throws for anything but an octal mode of at most 0777.
int parse_mode(const std::string& text) {
  size_t used = 0;
  int mode = -1;
  try {
    mode = std::stoi(text, &used, 8);
  } catch (const std::exception&) {
  }
  if (text.empty() || used != text.size() || mode < 0 || mode > 0777)
    throw std::runtime_error("ipc_mode '" + text + "' is not an octal file mode such as 0660");
  return mode;
}

// `pub_direct`: the file's pub_direct when it has one (parse_config resolves it).
void load_file(const std::string& file, DaemonConfig& c, std::optional<bool>& pub_direct,
               std::optional<bool>& bind_direct) {
  toml::table t = toml::parse_file(file);
  if (auto b = t["bind"]; b.is_array()) {
    c.bind.clear();
    for (auto& e : *b.as_array()) c.bind.push_back(e.value<std::string>().value_or(""));
  } else if (auto s = t["bind"].value<std::string>()) {
    c.bind = {*s};
  }
  if (auto s = t["pub"].value<std::string>()) c.pub = *s;
  if (auto b = t["pub_direct"].value<bool>()) pub_direct = *b;
  if (auto b = t["bind_direct"].value<bool>()) bind_direct = *b;
  if (auto s = t["data_dir"].value<std::string>()) c.data_dir = *s;
  if (auto s = t["log_level"].value<std::string>()) c.log_level = *s;
  if (auto v = t["limits"]["max_request_bytes"].value<int64_t>()) c.max_request_bytes = *v;
  if (auto v = t["limits"]["max_inflight_per_model"].value<int64_t>())
    c.max_inflight_per_model = *v;
  if (auto v = t["limits"]["max_batch_docs"].value<int64_t>()) c.max_batch_docs = *v;
  if (auto v = t["limits"]["max_databases"].value<int64_t>()) c.max_databases = *v;
  if (auto v = t["limits"]["max_models"].value<int64_t>()) c.max_models = *v;
  if (auto v = t["change_log_size"].value<int64_t>()) c.change_log_size = *v;
  if (auto v = t["reply_spin_us"].value<int64_t>()) {
    if (*v < 0 || *v > 1000) throw std::runtime_error("reply_spin_us must be 0..1000");
    c.reply_spin_us = *v;
  }
  auto relative_to_file = [&](const std::string& p) {
    std::filesystem::path path(p);
    if (path.is_relative()) path = std::filesystem::path(file).parent_path() / path;
    return path.lexically_normal().string();
  };
  if (auto s = t["security"]["curve_secret_key"].value<std::string>())
    c.curve_secret_key = relative_to_file(*s);
  if (auto s = t["security"]["curve_allow"].value<std::string>())
    c.curve_allow = relative_to_file(*s);
  if (auto s = t["security"]["ipc_mode"].value<std::string>()) {
    c.ipc_mode = parse_mode(*s);
  } else if (auto m = t["security"]["ipc_mode"].value<int64_t>()) {  // ipc_mode = 0o660
    if (*m < 0 || *m > 0777) throw std::runtime_error("ipc_mode must be a file mode such as 0o660");
    c.ipc_mode = int(*m);
  }
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
  std::optional<bool> pub_direct;   // as asked (file, then flag); unset: where it can
  std::optional<bool> bind_direct;  // the same for the request endpoints
  CLI::App app{"memgoosed: a document database daemon (MessagePack over ZeroMQ)"};
  std::vector<std::string> bind;
  std::string pub, data_dir, log_level, config_path;
  int64_t max_request = 0, max_inflight = 0, change_log = -1;
  app.add_option("--bind", bind, "request endpoint (repeatable), default tcp://127.0.0.1:7377");
  app.add_option("--pub", pub, "change-stream endpoint, default tcp://127.0.0.1:7378");
  bool pub_direct_flag = false;
  CLI::Option* pub_direct_opt = app.add_flag(
      "--pub-direct,!--no-pub-direct", pub_direct_flag,
      "serve the change stream from memgoosed itself, not libzmq's XPUB: the default for a "
      "tcp:// --pub with CURVE off (ipc:// and CURVE always use libzmq; --pub-direct with them "
      "is an error); --pub-direct=false or --no-pub-direct: libzmq's XPUB");
  bool bind_direct_flag = false;
  CLI::Option* bind_direct_opt = app.add_flag(
      "--bind-direct,!--no-bind-direct", bind_direct_flag,
      "serve tcp:// request endpoints from memgoosed itself, not libzmq's ROUTER: the default "
      "with CURVE off (ipc:// endpoints and CURVE always use libzmq; --bind-direct with CURVE "
      "is an error); --bind-direct=false or --no-bind-direct: libzmq's ROUTER");
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
  int64_t reply_spin = -1;
  app.add_option("--reply-spin-us", reply_spin,
                 "microseconds the front door waits for a model's reply before it sleeps "
                 "(adaptive; 0 turns it off; default 50)")
      ->check(CLI::Range(int64_t(0), int64_t(1000)));
  int64_t max_batch = 0, max_dbs = 0, max_models = 0;
  app.add_option("--max-batch-docs", max_batch, "documents in one insertMany (default 100000)");
  app.add_option("--max-databases", max_dbs, "databases, `default` included (default 1000)");
  app.add_option("--max-models", max_models,
                 "models over every database, each with a thread (default 1024)");
  std::string curve_secret, curve_allow, ipc_mode;
  app.add_option("--curve-secret-key", curve_secret,
                 "turn CURVE on: the server's secret key file (mode 0600; memgoose keygen)");
  app.add_option("--curve-allow", curve_allow,
                 "client public keys admitted under CURVE: a file of Z85 keys or a directory "
                 "of *.pub files");
  app.add_option("--ipc-mode", ipc_mode, "permissions of ipc:// socket files (default 0660)");
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
    if (!config_path.empty()) load_file(config_path, c, pub_direct, bind_direct);
  } catch (const std::exception& e) {
    out.exit_code = 2;
    out.error = "config file " + config_path + ": " + e.what();
    return out;
  }
  if (!bind.empty()) c.bind = bind;
  if (!pub.empty()) c.pub = pub;
  if (pub_direct_opt->count()) pub_direct = pub_direct_flag;
  if (bind_direct_opt->count()) bind_direct = bind_direct_flag;
  if (!data_dir.empty()) c.data_dir = data_dir;
  if (!log_level.empty()) c.log_level = log_level;
  if (max_request > 0) c.max_request_bytes = max_request;
  if (max_inflight > 0) c.max_inflight_per_model = max_inflight;
  if (change_log >= 0) c.change_log_size = change_log;
  if (reply_spin >= 0) c.reply_spin_us = reply_spin;
  if (max_batch > 0) c.max_batch_docs = max_batch;
  if (max_dbs > 0) c.max_databases = max_dbs;
  if (max_models > 0) c.max_models = max_models;
  if (!curve_secret.empty()) c.curve_secret_key = curve_secret;
  if (!curve_allow.empty()) c.curve_allow = curve_allow;
  try {
    if (!ipc_mode.empty()) c.ipc_mode = parse_mode(ipc_mode);
  } catch (const std::exception& e) {
    out.exit_code = 2;
    out.error = std::string("--ipc-mode: ") + e.what();
    return out;
  }
  if (c.curve_secret_key.empty() != c.curve_allow.empty()) {
    out.exit_code = 2;
    out.error = c.curve_allow.empty()
                    ? "--curve-secret-key needs --curve-allow (the client keys to admit)"
                    : "--curve-allow needs --curve-secret-key (the server's secret key)";
    return out;
  }
  bool tcp_pub = c.pub.rfind("tcp://", 0) == 0, curve = !c.curve_secret_key.empty();
  if (pub_direct.value_or(false) && curve) {
    out.exit_code = 2;
    out.error = "--pub-direct does not speak CURVE: leave it off when CURVE is on";
    return out;
  }
  if (pub_direct.value_or(false) && !tcp_pub) {
    out.exit_code = 2;
    out.error = "--pub-direct needs a tcp:// pub endpoint (not " + c.pub + ")";
    return out;
  }
  c.pub_direct = pub_direct.value_or(tcp_pub && !curve);
  if (bind_direct.value_or(false) && curve) {
    out.exit_code = 2;
    out.error = "--bind-direct does not speak CURVE: leave it off when CURVE is on";
    return out;
  }
  c.bind_direct = bind_direct.value_or(!curve);
  if (c.max_batch_docs < 1 || c.max_databases < 1 || c.max_models < 1) {
    out.exit_code = 2;
    out.error = "limits max_batch_docs, max_databases and max_models must be at least 1";
    return out;
  }
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
