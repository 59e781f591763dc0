// tests/crash/crash_matrix.cc — memgoose-crash: the crash matrix of docs/RELIABILITY.md. For
// every persistent backend/mode the daemon offers (crash_run.h: file immediate/debounced,
// sqlite normal/full, wiredtiger journalSync false/true when `hello` lists it) it runs
// CrashRun::kill_round N times on a fresh memgoosed and data dir, then one clean restart, and
// prints one line per mode:
//
//   file-immediate  kills 50  acked 81234  in-flight 3012 (landed 1450)  lost 0  resurrected 0
//     phantom 0  torn 0  failures 0  41.2 s
//
// Usage: memgoose-crash [--kills N] [--mode NAME]... [--seed S] [--keep DIR]
//   --kills N   SIGKILLs per mode (default 3, the ctest entry crash.matrix_short)
//   --mode NAME only this mode (repeatable); default every mode
//   --seed S    seed of the first mode (mode i uses S + i); default random, printed
//   --keep DIR  on a mode's first failure, copy its data dir to DIR/<mode> (post-mortem)
// Exit status 0 when every check passed, 1 on any failure (the first one is printed with the
// daemon's log tail), 2 on bad usage. The daemon binary is $MEMGOOSED or the build's memgoosed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <stdexcept>

#include "tests/crash/crash_run.h"

using namespace mg;

namespace {

int usage() {
  std::cerr << "usage: memgoose-crash [--kills N] [--mode NAME]... [--seed S] [--keep DIR]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int kills = 3;
  std::vector<std::string> only;
  uint64_t seed = std::random_device{}();
  std::string keep;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    if (a == "--kills")
      kills = std::atoi(argv[++i]);
    else if (a == "--mode")
      only.push_back(argv[++i]);
    else if (a == "--keep")
      keep = argv[++i];
    else if (a == "--seed")
      seed = std::strtoull(argv[++i], nullptr, 10);
    else
      return usage();
  }
  if (kills < 1) return usage();

  std::vector<crash::Mode> modes;
  {
    testing::DaemonProcess probe;
    client::Client c(probe.req_endpoint());
    try {
      if (only.empty())
        modes = crash::persistent_modes(c);
      else
        for (auto& name : only) modes.push_back(crash::find_mode(c, name));
    } catch (const std::invalid_argument& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
  }
  std::cout << "memgoose-crash: " << kills << " kills per mode, seed " << seed << "\n";
  bool all_ok = true;
  std::string first_failure;
  for (size_t i = 0; i < modes.size(); ++i) {
    testing::DaemonProcess d;
    crash::CrashRun run(d, modes[i], seed + i);
    if (!keep.empty()) run.keep_data_on_failure(keep);
    for (int k = 0; k < kills; ++k) run.kill_round();
    run.clean_restart();
    const crash::CrashReport& r = run.report();
    char line[512];
    std::snprintf(line, sizeof line,
                  "%-18s kills %d  acked %lld  in-flight %lld (landed %lld)  lost %lld  "
                  "resurrected %lld  phantom %lld  torn %lld  failures %lld  %.1f s",
                  modes[i].name.c_str(), r.kills, (long long)r.acknowledged, (long long)r.in_flight,
                  (long long)r.in_flight_landed, (long long)r.damage.lost,
                  (long long)r.damage.resurrected, (long long)r.damage.phantom,
                  (long long)r.damage.torn, (long long)r.failures,
                  double(r.elapsed.count()) / 1000);
    std::cout << line << std::endl;
    if (r.failures) {
      all_ok = false;
      if (first_failure.empty()) first_failure = r.first_failure;
    }
  }
  if (!all_ok) std::cout << "FAILED\n" << first_failure << "\n";
  return all_ok ? 0 : 1;
}
