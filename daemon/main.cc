// daemon/main.cc — memgoosed: parse the configuration, prepare the data dir, start the actor
// system and serve through the front door until SIGTERM/SIGINT (CONTRACT.md §1).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon/config.h"
#include "daemon/front_door.h"
#include "protocol/envelope.h"
#include "storage/catalog.h"
#include "storage/file_storage.h"
#include "storage/plugin.h"

namespace {

// A one-line reason on stderr and a non-zero exit (CONTRACT.md §1).
int die(const std::string& why) {
  std::fprintf(stderr, "memgoosed: %s\n", why.c_str());
  return 1;
}

std::string prepare_data_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create data dir " + dir + ": " + ec.message();
  std::string probe = dir + "/.memgoosed-write-test";
  {
    std::ofstream f(probe);
    if (!f || !(f << "ok") || !f.flush()) return "data dir " + dir + " is not writable";
  }
  std::filesystem::remove(probe, ec);
  return {};
}

// --repair DB: only for a file-storage database, found through its catalog.
int repair(const mg::DaemonConfig& cfg) {
  if (!mg::valid_name(cfg.repair))
    return die("--repair: invalid database name '" + cfg.repair + "'");
  std::string dir = cfg.data_dir + "/" + cfg.repair;
  auto catalog = mg::read_catalog(dir);
  if (!catalog.ok()) return die("--repair: " + catalog.status().message);
  if (catalog->storage != "file")
    return die("--repair: database '" + cfg.repair + "' uses storage '" + catalog->storage +
               "'; --repair handles file storage only");
  std::string report;
  mg::Status s = mg::repair_file_database(dir, report);
  std::fputs(report.c_str(), stdout);
  if (!s.ok()) return die("--repair: " + s.message);
  std::printf("repaired %s\n", dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Shutdown signals are read by the front door from a signalfd: block them in every thread,
  // before the actor system starts its own.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file size limit (RLIMIT_FSIZE, systemd's LimitFSIZE=) must fail the write with EFBIG,
  // which the storage reports as StorageError, not kill the daemon.
  std::signal(SIGXFSZ, SIG_IGN);

  mg::ParseOutcome parsed = mg::parse_config(argc, argv);
  if (!parsed.config) {
    if (parsed.error.empty()) return parsed.exit_code;
    std::fprintf(stderr, "memgoosed: %s\n", parsed.error.c_str());
    return parsed.exit_code ? parsed.exit_code : 2;
  }
  const mg::DaemonConfig& cfg = *parsed.config;
  auto logger = spdlog::stderr_color_mt("memgoosed");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  if (!cfg.repair.empty()) return repair(cfg);
  for (const std::string& path : cfg.plugins) {  // before any database opens
    std::string kind;
    mg::Status s = mg::load_storage_plugin(path, &kind);
    if (!s.ok()) return die(s.message);
    spdlog::info("storage plugin {} loaded from {}", kind, path);
  }
  if (std::string err = prepare_data_dir(cfg.data_dir); !err.empty()) return die(err);

  int rc = 0;
  {
    caf::actor_system_config caf_cfg;
    // One actor worker per core (CAF's default is at least 4): with the front door and
    // ZeroMQ's I/O thread beside them, more workers than cores only add context switches.
    caf_cfg.set("scheduler.max-threads", size_t(std::max(2u, std::thread::hardware_concurrency())));
    caf::actor_system sys{caf_cfg};
    auto door = std::make_shared<mg::FrontDoor>(sys, cfg);
    mg::Status s = door->bind();
    if (!s.ok()) {
      door->abort();
      sys.await_all_actors_done();
      return die(s.message);
    }
    rc = door->run();
    sys.await_all_actors_done();
  }
  return rc;
}
