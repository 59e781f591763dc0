// bench/compression_suite.cc — `memgoose-bench compression` (see backend_suites.h): the seed's
// compression comparison (memgoose-storage-guide.md, "Compression Comparison"), issue 6.
//
// Only when `hello` lists the storage wiredtiger; then for each compressor it lists (of none,
// snappy, zlib, zstd, lz4): a fresh memgoosed, a database `cmp` with {compressor}, and
// --docs (100k) lorem documents (shape.h lorem_doc, about 3.8 KB each) in model Lorem:
//   compression_<c>_insert_docs_per_s   insertMany ×1000, 2 batches in flight
//   compression_<c>_scan_docs_per_s     find {} read whole, in pages of 1000 (skip/limit)
//                                       — answered from memory, as every read in memgoosed
//   compression_<c>_table_bytes         size of <data-dir>/cmp/Lorem/Lorem_docs.wt after a
//                                       graceful stop (its final checkpoint): the table file
//                                       only, not the log (the seed measured the whole
//                                       directory, log included; that is _dir_bytes here)
//   compression_<c>_dir_bytes           every file of <data-dir>/cmp/Lorem/, log included
//   compression_<c>_vs_none             none's table bytes / this one's (how many times smaller)
//   compression_<c>_ratio_to_encoded    `stats` docBytes / table bytes (the seed's "ratio")
//   compression_<c>_startup_docs_per_s  a restart over the table until a count answers:
//                                       the read path that does decompress
//   compression_<c>_encoded_bytes_per_doc  `stats` docBytes / documents (about 3.8 KB)
#include <cstdio>
#include <filesystem>
#include <thread>

#include "bench/backend_suites.h"
#include "bench/backends.h"
#include "bench/daemon_measure.h"
#include "bench/procs.h"
#include "bench/shape.h"
#include "bench/stats.h"

namespace mg::bench {

namespace {

const char* kCompressors[] = {"none", "snappy", "zlib", "zstd", "lz4"};

uint64_t dir_bytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) total += uint64_t(e.file_size(ec));
  return total;
}

// Reads every document of cmp.Lorem in pages of 1000. Returns documents per second.
double scan(Client& c, uint64_t want) {
  uint64_t got = 0;
  double t0 = now_s();
  for (int64_t skip = 0;; skip += 1000) {
    client::FindArgs a;
    a.filter = "\x80";  // {}
    a.skip = skip, a.limit = 1000;
    size_t n = c.find("cmp", "Lorem", a).size();
    got += n;
    if (n < 1000) break;
  }
  double dt = now_s() - t0;
  if (got != want)
    throw std::runtime_error("find {} read " + std::to_string(got) + " documents, not " +
                             std::to_string(want));
  return double(want) / dt;
}

double restart_until_loaded(Daemon& d, int64_t want) {
  d.stop();
  double t0 = now_s();
  d.start(600);
  client::ClientOptions o;
  o.timeout_ms = 600000;
  Client c(d.endpoint(), o);
  while (now_s() - t0 < 600) {
    try {
      if (c.count("cmp", "Lorem") == want) return now_s() - t0;
    } catch (const client::Error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  throw std::runtime_error("cmp.Lorem not loaded within 600 s of a restart");
}

void measure(const SuiteOptions& opts, const std::string& comp, Metrics& m) {
  std::string p = "compression_" + comp + "_";
  Daemon d(opts.memgoosed);
  int64_t doc_bytes = 0;
  {
    Client c(d.endpoint(), client_options(2, nullptr));
    c.create_database("cmp", "wiredtiger", string_option("compressor", comp));
    double t = 0;
    for (uint64_t i = 0; i < opts.docs; i += 10000) {
      auto batches = doc_batches(i, std::min<uint64_t>(10000, opts.docs - i), 1000, lorem_doc);
      t += double(std::min<uint64_t>(10000, opts.docs - i)) /
           insert_many(c, "cmp", "Lorem", batches).per_s;
    }
    m[p + "insert_docs_per_s"] = double(opts.docs) / t;
    m[p + "scan_docs_per_s"] = scan(c, opts.docs);
    doc_bytes = model_stats(c, "cmp", "Lorem").doc_bytes;
  }
  d.stop();
  std::filesystem::path home = std::filesystem::path(d.data_dir()) / "cmp" / "Lorem";
  std::error_code ec;
  auto table = std::filesystem::file_size(home / "Lorem_docs.wt", ec);
  if (ec) throw std::runtime_error("no table file " + (home / "Lorem_docs.wt").string());
  m[p + "table_bytes"] = double(table);
  m[p + "dir_bytes"] = double(dir_bytes(home));
  m[p + "ratio_to_encoded"] = double(doc_bytes) / double(table);
  m[p + "encoded_bytes_per_doc"] = double(doc_bytes) / double(opts.docs);
  m[p + "startup_docs_per_s"] = double(opts.docs) / restart_until_loaded(d, int64_t(opts.docs));
  d.stop();
}

}  // namespace

int run_compression_suite(const SuiteOptions& opts) {
  if (!opts.endpoint.empty()) {
    std::fprintf(stderr, "compression: skipped with --endpoint (it needs daemons of its own)\n");
    return 0;
  }
  Hello hello = hello_of_daemon(opts.memgoosed);
  bool wt = hello.has_storage("wiredtiger");
  std::map<std::string, std::vector<double>> all;
  for (int run = 0; wt && run < opts.runs; ++run) {
    Metrics m;
    for (const char* comp : kCompressors) {
      if (!hello.has_compressor(comp)) continue;
      measure(opts, comp, m);
      std::fprintf(stderr, "compression run %d/%d: %s: table %.0f bytes, %.0f docs/s in\n", run + 1,
                   opts.runs, comp,
                   value_of(m, "compression_" + std::string(comp) + "_table_bytes"),
                   value_of(m, "compression_" + std::string(comp) + "_insert_docs_per_s"));
    }
    if (m.count("compression_none_table_bytes"))
      for (const char* comp : kCompressors)
        if (m.count("compression_" + std::string(comp) + "_table_bytes"))
          m["compression_" + std::string(comp) + "_vs_none"] =
              m["compression_none_table_bytes"] /
              m["compression_" + std::string(comp) + "_table_bytes"];
    for (auto& [k, v] : m) all[k].push_back(v);
  }
  std::vector<std::string> expected;
  std::map<std::string, std::string> skipped;
  for (const char* comp : kCompressors) {
    std::string why =
        !wt ? "memgoosed's hello does not list the storage 'wiredtiger'"
        : !hello.has_compressor(comp)
            ? "memgoosed's hello does not list the compressor '" + std::string(comp) + "'"
            : "";
    for (const char* n : {"insert_docs_per_s", "scan_docs_per_s", "table_bytes", "dir_bytes",
                          "vs_none", "ratio_to_encoded", "startup_docs_per_s"}) {
      std::string name = "compression_" + std::string(comp) + "_" + n;
      expected.push_back(name);
      std::string w = why;
      if (w.empty() && std::string(n) == "vs_none" && !hello.has_compressor("none"))
        w = "no 'none' to compare with: hello does not list it";
      if (!w.empty()) skipped[name] = w;
    }
  }
  Report rep("compression", opts);
  rep.add_runs(expected, all, skipped);
  return rep.finish(expected);
}

}  // namespace mg::bench
