// bench/backends.h — the storage configurations the per-backend suites measure, taken from
// what the daemon's `hello` lists, and the few daemon queries those suites share.
//
// A configuration is one `createDatabase {storage, options}`: memory; file in debounced and
// in immediate mode; sqlite and wiredtiger with their defaults; any other storage `hello`
// lists (a custom strategy) with its defaults. Its `label` prefixes the suite's metric names
// (`file_debounced_insert_many_docs_per_s`). The labels of the contract's storages are known
// in advance (kKnownBackends), so that a storage the daemon does not list yet is reported as
// skipped, by name, rather than silently absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clients/cpp/client.h"

namespace mg::bench {

struct Backend {
  std::string label;    // metric prefix: memory, file_debounced, file_immediate, sqlite, ...
  std::string storage;  // the `storage` of createDatabase
  std::string options;  // encoded options map; empty for the storage's defaults
  bool persistent = false;
};

// The configurations of the contract's storages (CONTRACT.md §5), in the seed's table order.
const std::vector<Backend>& known_backends();

// What `hello` lists: storages and compressors (each empty when the key is absent).
struct Hello {
  std::vector<std::string> storages, compressors;
  bool has_storage(const std::string& s) const;
  bool has_compressor(const std::string& c) const;
};
Hello hello_of(client::Client& c);
// What a fresh daemon (`memgoosed`, a throwaway data dir) lists, for suites that then start
// daemons of their own per configuration.
Hello hello_of_daemon(const std::string& memgoosed);
// `h` with its storages narrowed to `only` (--storage; empty: unchanged): the suites then
// report the others as not measured, as for a storage the daemon lacks.
Hello selected(Hello h, const std::vector<std::string>& only);

// The configurations to measure: the known ones whose storage `hello` lists, then one per
// other listed storage (defaults, label = the storage's name, persistent unless "memory").
std::vector<Backend> backends_listed(const Hello& h);

// A model's figures from `stats` (CONTRACT.md §5): document count, encoded bytes of its
// documents, bytes on disk. Throws std::runtime_error when the model is not in the reply.
struct ModelStats {
  int64_t count = 0, doc_bytes = 0, storage_bytes = 0, commits = 0;
};
ModelStats model_stats(client::Client& c, const std::string& db, const std::string& model);

// `{key: value}` encoded, for options such as {persistMode: "immediate"}.
std::string string_option(const char* key, const std::string& value);

}  // namespace mg::bench
