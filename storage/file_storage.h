// storage/file_storage.h — the `file` backend: each model is a human-readable NDJSON snapshot
// plus an NDJSON write-ahead log (CONTRACT.md §8), as in memgoose's file storage.
//
// storage/file_storage.cc opens with the design, the file formats (defined in storage/wal.h)
// and the recovery rules. This header is what the rest of the daemon uses: the StorageKind
// "file" for the registry, a direct constructor for tests and tools, and the offline repair.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/msgpack.h"
#include "storage/engine.h"
#include "storage/storage_strategy.h"

namespace mg {

// createDatabase options of the file backend (CONTRACT.md §5).
struct FileOptions {
  bool immediate = false;                     // persistMode: "debounced" (false) | "immediate"
  int64_t debounce_ms = 100;                  // debounceMs: 0 ..= kMaxDebounceMs
  int64_t compact_bytes = int64_t(64) << 20;  // compactBytes: WAL size that starts a compaction
};
constexpr int64_t kMaxDebounceMs = 86'400'000;  // a day

// Checks an options map (invalid view or nil: all defaults). InvalidOptions naming the key and
// what is allowed for an unknown key or a bad value.
Result<FileOptions> parse_file_options(MpView options);
// The normalized map {persistMode, debounceMs, compactBytes}, every key present.
std::string encode_file_options(const FileOptions& opts);

// The StorageKind "file" (persistent), listed by storage_kinds().
StorageKind file_storage_kind();

// An engine over the existing directory `dir`: one StorageStrategy per model, sharing one
// background thread for debounced syncs and one for compactions (started when first needed,
// stopped when the engine and all its strategies are gone). StorageError when `dir` cannot be
// opened.
Result<std::shared_ptr<StorageEngine>> open_file_engine(const std::string& dir,
                                                        const FileOptions& opts);

// One model's strategy with an engine of its own (tests and tools). `dir` must exist:
// StorageError when it cannot be opened; the model's files are read by open().
Result<std::unique_ptr<StorageStrategy>> make_file_storage(const std::string& dir,
                                                           const std::string& model,
                                                           const FileOptions& opts);

// `memgoosed --repair DB`: for every model file in `dir` (a database directory), finds the
// first record that cannot be read (bad JSON, a bad record, a torn or unfinished batch at the
// end of a WAL), saves the whole file as `<file>.bad-<UTC timestamp>`, and truncates the file
// just before that record. `report` gets one line per file looked at (what was cut, where the
// copy is). Run it only while no daemon uses the directory. Returns StorageError when a file
// cannot be read, copied or truncated (the report says how far it got).
Status repair_file_database(const std::string& dir, std::string& report);

// Testing: crash points. When `step` (or, at start, the environment variable MG_FILE_FAULT)
// names one of these, the process calls _exit(137) when it gets there:
//   wal_torn_write         apply() wrote half of its batch
//   after_wal_write        apply() wrote its whole batch, before returning
//   after_snapshot_tmp     compaction wrote and fsynced <Model>.data.ndjson.tmp, not renamed
//   after_snapshot_rename  the new snapshot is in place, the WAL not yet reset
//   after_wal_tmp          the new WAL was written and fsynced as .tmp, not renamed
//   after_wal_rename       the new WAL is in place
// and one that does not crash: snapshot_dir_sync_fails makes the directory sync after a
// snapshot's rename fail (EIO from a failing disk), every time.
// An empty or unknown name turns the crash points off. Returns false for an unknown name.
bool set_file_fault(std::string_view step);

}  // namespace mg
