// bench/main.cc — memgoose-bench: runs the benchmark suites (see suites.h).
//
//   memgoose-bench core [--docs N] [--runs R] [--json FILE]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

#include "bench/suites.h"

namespace mg::bench {

void Report::print() const {
  std::printf("%-8s %-28s %14s   runs\n", "suite", "metric", "median");
  for (auto& r : rows_) {
    std::printf("%-8s %-28s %14.3f  ", suite_.c_str(), r.metric.c_str(), r.median);
    for (double v : r.runs) std::printf(" %.3f", v);
    std::printf("\n");
  }
  if (opts_.json_path.empty()) return;
  std::ofstream out(opts_.json_path, std::ios::app);
  for (auto& r : rows_) {
    out << "{\"suite\":\"" << suite_ << "\",\"metric\":\"" << r.metric
        << "\",\"docs\":" << opts_.docs << ",\"median\":" << r.median << ",\"runs\":[";
    for (size_t i = 0; i < r.runs.size(); ++i) out << (i ? "," : "") << r.runs[i];
    out << "]}\n";
  }
}

}  // namespace mg::bench

int main(int argc, char** argv) {
  using namespace mg::bench;
  CLI::App app{"memgoose-bench: measures memgoosed against its baselines"};
  app.require_subcommand(1);
  SuiteOptions opts;
  auto* core = app.add_subcommand("core", "the engine in-process, memory backend");
  for (auto* sub : {core}) {
    sub->add_option("--docs", opts.docs, "documents to load")->capture_default_str();
    sub->add_option("--runs", opts.runs, "repetitions (the median is reported)")
        ->capture_default_str();
    sub->add_option("--json", opts.json_path, "append JSON results to this file");
  }
  CLI11_PARSE(app, argc, argv);
  try {
    if (core->parsed()) return run_core_suite(opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memgoose-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
