// clients/cli/import.cc — `memgoose import db.Model file.ndjson [--batch N]`.
//
// Streams the file one line at a time (blank lines are skipped), converts each line from
// Extended JSON, and sends every `--batch` documents as one insertMany through the client's
// pipelined API with a window of a few batches, so parsing the next batch overlaps the
// daemon inserting the previous ones. Each batch remembers the line number of each of its
// documents, so a server error carrying `index` (DuplicateKey, DocumentValidationFailure)
// names the exact file:line. After the first error no batch is sent; the ones in flight are
// drained, and the batches acknowledged before it stay inserted (insertMany is all or
// nothing per batch); a bad line stops the import before its batch is sent. Progress goes to
// stderr when it is a terminal; the summary "imported N documents in S s (R docs/s)" goes to
// stdout, on error too (then followed by the error on stderr).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "clients/cli/cli.h"
#include "core/ejson.h"

namespace mg::cli {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBatchesInFlight = 4;

struct ImportState {
  std::string path;
  uint64_t imported = 0;
  std::optional<client::Error> error;  // the first server error, message naming file:line
};

// The callback of one batch: counts its documents or records the first error.
void on_batch_reply(ImportState& st, const std::vector<uint64_t>& lines, client::Reply reply) {
  if (reply.ok()) {
    MpView n = reply.get("insertedCount");
    st.imported += n.valid() && n.type() == MpType::Int ? uint64_t(n.as_int()) : lines.size();
    return;
  }
  if (st.error) return;
  client::Error e = reply.error();
  MpView index = e.details().get("index");
  std::string where =
      st.path + ":" + std::to_string(lines.front()) + "-" + std::to_string(lines.back());
  if (index.valid() && index.type() == MpType::Int && index.as_int() >= 0 &&
      uint64_t(index.as_int()) < lines.size())
    where = st.path + ":" + std::to_string(lines[size_t(index.as_int())]);
  st.error.emplace(e.code(), e.name(), where + ": " + e.message(), e.error_map());
}

class Progress {
 public:
  explicit Progress(uint64_t total_bytes) : total_(total_bytes), on_(isatty(2) && total_ > 0) {}
  void update(uint64_t bytes, uint64_t docs, bool force = false) {
    if (!on_) return;
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    int pct = int(bytes * 100 / total_);
    int filled = pct * 30 / 100;
    std::fprintf(stderr, "\r[%s%s] %3d%%  %llu docs", std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(30 - filled), ' ').c_str(), pct,
                 static_cast<unsigned long long>(docs));
  }
  void finish() {
    if (on_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  uint64_t total_;
  bool on_;
  Clock::time_point last_{};
};

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  if (path == "-" || !std::filesystem::is_regular_file(path, ec)) return 0;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : uint64_t(size);
}

void print_summary(uint64_t imported, Clock::time_point start) {
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  double rate = secs > 0 ? double(imported) / secs : 0;
  std::printf("imported %llu documents in %.2f s (%.0f docs/s)\n",
              static_cast<unsigned long long>(imported), secs, rate);
}

// Converts one line into `doc`; returns the error naming path:line when it is not a JSON object.
std::optional<InputError> parse_line(const std::string& path, uint64_t lineno,
                                     const std::string& line, std::string& doc) {
  Status s = ejson_to_msgpack(line, doc);
  if (s.ok() && MpView(doc).type() != MpType::Map)
    s = make_status(ErrorCode::BadValue, "expected a JSON object");
  if (s.ok()) return std::nullopt;
  return InputError(std::string(error_name(s.code)),
                    path + ":" + std::to_string(lineno) + ": " + s.message);
}

}  // namespace

int run_import(const Connection& conn, const ImportOptions& o) {
  Namespace ns = parse_namespace(o.ns);
  std::ifstream file;
  if (o.path != "-") {
    file.open(o.path, std::ios::binary);
    if (!file) throw InputError("BadValue", "cannot open '" + o.path + "'");
  }
  std::istream& in = o.path == "-" ? std::cin : file;
  client::ClientOptions copts = client_options(conn);
  copts.window = kBatchesInFlight;
  client::Client c(conn.endpoint, copts);

  ImportState st{o.path == "-" ? "<stdin>" : o.path, 0, std::nullopt};
  Progress progress(file_size_or_zero(o.path));
  auto start = Clock::now();
  std::vector<std::string> docs;
  std::vector<uint64_t> lines;
  auto send_batch = [&] {
    if (docs.empty() || st.error) return;
    auto batch_lines = std::make_shared<std::vector<uint64_t>>(std::move(lines));
    c.insert_many_async(ns.db, ns.model, docs, [&st, batch_lines](client::Reply r) {
      on_batch_reply(st, *batch_lines, std::move(r));
    });
    docs.clear();
    lines = {};
  };

  std::string line;
  uint64_t lineno = 0, bytes = 0;
  std::optional<InputError> bad_line;
  while (!st.error && std::getline(in, line)) {
    ++lineno;
    bytes += line.size() + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string doc;
    if (auto problem = parse_line(st.path, lineno, line, doc)) {
      bad_line = std::move(problem);
      break;
    }
    docs.push_back(std::move(doc));
    lines.push_back(lineno);
    if (docs.size() >= size_t(o.batch)) send_batch();
    progress.update(bytes, st.imported);
  }
  if (!bad_line) send_batch();
  c.drain();
  progress.finish();
  print_summary(st.imported, start);  // also on error: what was acknowledged stays inserted
  if (st.error) throw *st.error;
  if (bad_line) throw *bad_line;
  return 0;
}

}  // namespace mg::cli
