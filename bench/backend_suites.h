// bench/backend_suites.h — the suites that measure memgoosed per storage backend (issue 8,
// and the "Speed" sections of issues 4, 5 and 6), each against a daemon it starts itself:
//
//   backends     for every configuration `hello` allows (backends.h): the seed's table rows
//                (insert 10k with insertOne pipelined, bulk insert 100k with insertMany ×1000,
//                indexed findOne 1 of 100k, findOne by a field without an index, count on an
//                index, update 10k, delete 10k), and the ratios of issues 4, 5 and 6 with the
//                raw SQLite and WiredTiger loaders (raw_loaders.h) run in the same run.
//   scale        daemon RSS and encoded bytes per document at 100k and 1M documents per
//                backend; for each persistent one, the time to start again over 1M documents.
//   compression  the seed's compression comparison (issue 6), per compressor `hello` lists:
//                table file size, ratio to none, insert rate, full-scan read rate.
//
// Each prints its table (and JSON lines when opts.json_path is set) and returns the number of
// its expected metrics that were not measured (each also named on stderr), like the changes
// suite. A configuration, compressor or baseline that cannot exist here (the daemon's `hello`
// does not list it, the bench was built without libwiredtiger) is reported as skipped with
// that reason and is not counted; everything `hello` lists must be measured. They throw
// std::runtime_error when the daemon fails or a reply is wrong. With --endpoint they are
// skipped (they start, stop and restart daemons of their own).
#pragma once

#include "bench/suites.h"

namespace mg::bench {

int run_backend_suite(const SuiteOptions& opts);
int run_scale_suite(const SuiteOptions& opts);
int run_compression_suite(const SuiteOptions& opts);

}  // namespace mg::bench
