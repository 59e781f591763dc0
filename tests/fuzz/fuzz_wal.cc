// Fuzzes the `file` backend's reader (storage/wal.h, recovery in file_storage_recover.cc): the
// input is split at the first "\n\x00\n" into a snapshot `M.data.ndjson` and a WAL
// `M.wal.ndjson` (no separator: the whole input is the WAL after a valid snapshot of two
// documents), written to a private directory under /dev/shm (or $TMPDIR), and the model is
// opened the way the daemon opens it. Invariants:
//  - open either succeeds, handing over only valid MessagePack maps with an _id, or fails with
//    StorageError / BadValue — never a crash, UB or leak;
//  - after a StorageError, `memgoosed --repair` (repair_file_database) must make the model open
//    (repair exists for exactly that), unless it reported leaving the file alone (a snapshot
//    of a newer format, which it must never cut) and open fails the same way again;
//  - a model that opened closes cleanly (close() compacts: the snapshot writer is fuzzed too)
//    and opens again with the same documents.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/ejson.h"
#include "core/error.h"
#include "core/msgpack.h"
#include "storage/file_storage.h"

using namespace mg;
namespace fs = std::filesystem;

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Never destroyed: the atexit cleanup runs after static destructors would have.
const std::string& work_dir() {
  static const std::string* const dir = [] {
    std::string base = fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
    auto* path = new std::string(base + "/mg_fuzz_wal_XXXXXX");
    require(::mkdtemp(path->data()) != nullptr);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(work_dir(), ec);
    });
    return path;
  }();
  return *dir;
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), std::streamsize(text.size()));
}

// Opens model M; on success fills `docs` with the Extended JSON of every document handed over.
Status open_model(const std::string& dir, std::vector<std::string>& docs) {
  docs.clear();
  FileOptions opts;
  opts.immediate = true;  // no syncer thread to start and stop per input
  auto st = make_file_storage(dir, "M", opts);
  if (!st.ok()) return st.status();
  Status s = st.value()->open([&](std::string_view doc) {
    require(validate(doc).ok());
    require(MpView(doc).get("_id").valid());
    docs.push_back(json_from_mp(doc));
    return Status::OK();
  });
  if (s.ok()) st.value()->close();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string snapshot =
      "{\"$memgoose\":{\"format\":1,\"seq\":2}}\n{\"_id\":1,\"a\":1}\n"
      "{\"_id\":\"x\",\"d\":{\"$date\":\"2024-01-02T03:04:05.678Z\"}}\n";
  std::string_view wal = in;
  if (size_t cut = in.find(std::string_view("\n\0\n", 3)); cut != std::string_view::npos) {
    snapshot = std::string(in.substr(0, cut + 1));
    wal = in.substr(cut + 3);
  }
  const std::string& dir = work_dir();
  for (auto& e : fs::directory_iterator(dir)) fs::remove_all(e.path());
  write_file(dir + "/M.data.ndjson", snapshot);
  write_file(dir + "/M.wal.ndjson", wal);

  std::vector<std::string> docs, again;
  Status s = open_model(dir, docs);
  if (!s.ok()) {
    require(s.code == ErrorCode::StorageError || s.code == ErrorCode::BadValue);
    if (s.code != ErrorCode::StorageError) return 0;
    std::string report;
    if (!repair_file_database(dir, report).ok()) return 0;
    Status after = open_model(dir, docs);
    // Repair leaves a file it must not cut (a newer snapshot format) alone, and says so.
    if (!after.ok() && after.message == s.message && report.find("left alone") != std::string::npos)
      return 0;
    require(after.ok());
  }
  // close() compacted everything into a snapshot: the same documents come back.
  require(open_model(dir, again).ok());
  std::sort(docs.begin(), docs.end());
  std::sort(again.begin(), again.end());
  require(docs == again);
  return 0;
}
