// bench/changes_suite.h — `changes`, the change-stream suite of memgoose-bench (issue 7,
// "Speed"): what one live subscriber costs the ingest of a memory database.
#pragma once

#include "bench/suites.h"

namespace mg::bench {

// Runs the suite (opts as filled in by with_defaults), prints its table (and JSON lines when
// opts.json_path is set) and the line "subscriber received every event: yes|no". Returns the
// number of its expected metrics that were not measured (0 when all were), each also named on
// stderr, like the other suites' check. Throws std::runtime_error when the daemon fails.
int run_changes_suite(const SuiteOptions& opts);

}  // namespace mg::bench
