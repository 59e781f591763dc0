// bench/main.cc — memgoose-bench: runs the benchmark suites (see suites.h).
//
//   memgoose-bench core   [--docs N] [--runs R] [--quick] [--json FILE]
//   memgoose-bench daemon [--docs N] [--runs R] [--quick] [--json FILE]
//                         [--memgoosed PATH | --endpoint tcp://HOST:PORT]
//   memgoose-bench changes     (only the change-stream suite `daemon` runs; same options)
//   memgoose-bench backends    [--docs N] [--runs R] [--quick] [--json FILE] [--memgoosed PATH]
//   memgoose-bench scale       (same options; --docs is the large size, default 1M)
//   memgoose-bench compression (same options; --docs lorem documents, default 100k)
//   memgoose-bench all    (core, daemon, changes, backends, scale, compression; the union of
//                          the option sets; --docs applies to every suite)
//
// Exits 0 when every expected metric of the suites run was measured, 3 when one is absent,
// missing or not a finite positive number (speed targets never fail the run), 1 on error.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "bench/backend_suites.h"
#include "bench/changes_suite.h"
#include "bench/suites.h"

namespace {

using namespace mg::bench;

// The memgoosed next to this executable (argv0 when /proc/self/exe is unreadable).
std::string sibling_daemon(const char* argv0) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = argv0;
  return (self.parent_path() / "memgoosed").string();
}

// Runs the bench (and the memgoosed it starts, which inherits the environment) with glibc's
// malloc on transparent huge pages, the way systemd/memgoosed.service runs the daemon
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a fresh process loading 100k documents otherwise
// takes ~5,500 page faults for its new heap, each a trap into a VM's kernel (docs/BENCHMARKS.md,
// "Session 4"). Tunables are read at start-up only, so the bench re-executes itself once with
// the variable set. MG_BENCH_HUGEPAGES=0 measures without.
void run_with_huge_pages(char** argv) {
  const char* want = std::getenv("MG_BENCH_HUGEPAGES");
  if (want && std::string_view(want) == "0") return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::string t = tunables ? tunables : "";
  if (t.find("glibc.malloc.hugetlb") != std::string::npos) return;  // set: by us or the caller
  t = t.empty() ? "glibc.malloc.hugetlb=1" : t + ":glibc.malloc.hugetlb=1";
  setenv("GLIBC_TUNABLES", t.c_str(), 1);
  execv("/proc/self/exe", argv);
  std::perror("memgoose-bench: re-exec with GLIBC_TUNABLES (going on without huge pages)");
}

// Prints `rep`, and returns the problems of its expected metrics (also printed).
std::vector<std::string> finish(const Report& rep, const std::vector<std::string>& expected) {
  rep.print();
  auto problems = rep.problems(expected);
  for (auto& p : problems) std::fprintf(stderr, "memgoose-bench: %s\n", p.c_str());
  return problems;
}

// Which suites to run.
struct Chosen {
  bool core = false, daemon = false, backends = false, scale = false, compression = false;
  bool changes = false;  // `daemon` runs it too
};

int run(const Chosen& s, const SuiteOptions& opts) {
  size_t problems = 0;
  if (s.core)
    problems += finish(run_core_suite(with_defaults(opts, 100000, 5)), core_metrics()).size();
  if (s.core) problems += finish(run_aggregate_suite(opts), aggregate_metrics()).size();
  if (s.daemon)
    problems += finish(run_daemon_suite(with_defaults(opts, 100000, 5)),
                       opts.only.empty() ? daemon_metrics() : std::vector<std::string>{})
                    .size();
  if ((s.daemon && opts.only.empty()) || s.changes)
    problems += size_t(run_changes_suite(with_defaults(opts, 100000, 5)));
  if (s.backends) problems += size_t(run_backend_suite(with_defaults(opts, 100000, 5)));
  if (s.scale) problems += size_t(run_scale_suite(with_defaults(opts, 1000000, 1)));
  if (s.compression) problems += size_t(run_compression_suite(with_defaults(opts, 100000, 1)));
  if (problems) {
    std::fprintf(stderr, "memgoose-bench: %zu expected metric(s) not measured\n", problems);
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  run_with_huge_pages(argv);
  CLI::App app{"memgoose-bench: measures memgoosed against its baselines"};
  app.require_subcommand(1);
  SuiteOptions opts;
  opts.memgoosed = sibling_daemon(argv[0]);
  auto* core = app.add_subcommand("core", "the engine in-process, memory backend");
  auto* daemon = app.add_subcommand("daemon", "memgoosed over tcp loopback, against baselines");
  auto* changes = app.add_subcommand("changes", "the change-stream suite alone (daemon runs it)");
  auto* backends = app.add_subcommand("backends", "every storage backend, raw loader baselines");
  auto* scale = app.add_subcommand("scale", "memory per document, start-up time over 1M docs");
  auto* compression = app.add_subcommand("compression", "wiredtiger compressors (issue 6)");
  auto* all = app.add_subcommand("all", "every suite");
  for (auto* sub : {core, daemon, changes, backends, scale, compression, all}) {
    sub->add_option("--docs", opts.docs, "documents (default 100000, scale 1000000; quick: 3000)");
    sub->add_option("--runs", opts.runs,
                    "repetitions, the median is reported (default: core, daemon, "
                    "changes and backends 5, scale and compression 1; quick: 1)");
    sub->add_flag("--quick", opts.quick, "few documents, one run: seconds in total (for CI)");
    sub->add_option("--json", opts.json_path, "append JSON results to this file");
  }
  for (auto* sub : {daemon, changes, backends, scale, compression, all})
    sub->add_option("--memgoosed", opts.memgoosed, "the daemon to start")->capture_default_str();
  for (auto* sub : {backends, scale})
    sub->add_option("--storage", opts.storages,
                    "measure only these storages (repeatable: memory, file, sqlite, wiredtiger)");
  for (auto* sub : {daemon, all})
    sub->add_option("--endpoint", opts.endpoint, "measure this running memgoosed instead");
  daemon
      ->add_option("--only", opts.only,
                   "only these measurements (repeatable: latency, pipelined, clients, "
                   "isolation, crud; the load always runs) and no changes suite")
      ->check(CLI::IsMember({"latency", "pipelined", "clients", "isolation", "crud"}));
  CLI11_PARSE(app, argc, argv);
  try {
    bool every = all->parsed();
    Chosen s{core->parsed() || every,  daemon->parsed() || every,      backends->parsed() || every,
             scale->parsed() || every, compression->parsed() || every, changes->parsed()};
    return run(s, opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memgoose-bench: %s\n", e.what());
    return 1;
  }
}
