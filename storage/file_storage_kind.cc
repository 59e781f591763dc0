// storage/file_storage_kind.cc — the "file" StorageKind: its options (CONTRACT.md §5) and the
// engine that makes one FileStorage per model.
#include <fcntl.h>

#include <limits>

#include "core/ejson.h"
#include "storage/file_storage_internal.h"

namespace mg {

namespace {

int64_t int_option(std::string_view key, MpView v, int64_t lo, int64_t hi, const char* allowed) {
  if (v.type() != MpType::Int || v.as_int() < lo || v.as_int() > hi)
    fail(ErrorCode::InvalidOptions, "option '" + std::string(key) + "' of file storage must be " +
                                        allowed + " (got " + json_from_mp(v.bytes()) + ")");
  return v.as_int();
}

class FileEngine final : public StorageEngine {
 public:
  explicit FileEngine(std::shared_ptr<file_detail::FileEnv> env) : env_(std::move(env)) {}
  std::unique_ptr<StorageStrategy> make_model(const std::string& name) override {
    return std::make_unique<file_detail::FileStorage>(env_, name);
  }

 private:
  std::shared_ptr<file_detail::FileEnv> env_;
};

}  // namespace

Result<FileOptions> parse_file_options(MpView options) {
  FileOptions o;
  Status s = for_each_option(
      options, "file", {"persistMode", "debounceMs", "compactBytes"},
      [&](std::string_view key, MpView v) {
        if (key == "persistMode") {
          if (v.type() != MpType::Str || (v.as_str() != "debounced" && v.as_str() != "immediate"))
            fail(ErrorCode::InvalidOptions,
                 "option 'persistMode' of file storage must be \"debounced\" or \"immediate\" "
                 "(got " +
                     json_from_mp(v.bytes()) + ")");
          o.immediate = v.as_str() == "immediate";
        } else if (key == "debounceMs") {
          o.debounce_ms = int_option(key, v, 0, kMaxDebounceMs,
                                     "an integer number of milliseconds from 0 to 86400000");
        } else {
          o.compact_bytes = int_option(key, v, 1, std::numeric_limits<int64_t>::max(),
                                       "an integer number of bytes > 0");
        }
      });
  if (!s.ok()) return s;
  return o;
}

std::string encode_file_options(const FileOptions& o) {
  std::string out;
  MpWriter w(out);
  w.map_header(3);
  w.str("persistMode"), w.str(o.immediate ? "immediate" : "debounced");
  w.str("debounceMs"), w.integer(o.debounce_ms);
  w.str("compactBytes"), w.integer(o.compact_bytes);
  return out;
}

namespace file_detail {

Result<std::shared_ptr<FileEnv>> open_file_env(const std::string& dir, const FileOptions& opts) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir);
  auto env = std::make_shared<FileEnv>();
  env->dir = Dir{dir, std::make_shared<Fd>(fd)};
  env->opts = opts;
  env->bg = std::make_shared<FileBackground>(std::chrono::milliseconds(opts.debounce_ms));
  return env;
}

}  // namespace file_detail

Result<std::shared_ptr<StorageEngine>> open_file_engine(const std::string& dir,
                                                        const FileOptions& opts) {
  auto env = file_detail::open_file_env(dir, opts);
  if (!env.ok()) return env.status();
  return std::shared_ptr<StorageEngine>(std::make_shared<FileEngine>(env.value()));
}

Result<std::unique_ptr<StorageStrategy>> make_file_storage(const std::string& dir,
                                                           const std::string& model,
                                                           const FileOptions& opts) {
  auto env = file_detail::open_file_env(dir, opts);
  if (!env.ok()) return env.status();
  return std::unique_ptr<StorageStrategy>(
      std::make_unique<file_detail::FileStorage>(env.value(), model));
}

StorageKind file_storage_kind() {
  StorageKind k;
  k.name = "file";
  k.persistent = true;
  k.normalize = [](MpView options) -> Result<std::string> {
    auto o = parse_file_options(options);
    if (!o.ok()) return o.status();
    return encode_file_options(o.value());
  };
  k.open = [](const std::string& dir, MpView options) -> Result<std::shared_ptr<StorageEngine>> {
    auto o = parse_file_options(options);
    if (!o.ok()) return o.status();
    return open_file_engine(dir, o.value());
  };
  return k;
}

}  // namespace mg
