#include "storage/catalog.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/ejson.h"
#include "core/msgpack.h"

namespace mg {

namespace {

Status io_error(const std::string& what, const std::string& path) {
  return make_status(ErrorCode::StorageError, what + " " + path + ": " + std::strerror(errno));
}

std::string encode_catalog(const Catalog& c) {
  std::string mp;
  MpWriter w(mp);
  w.map_header(5);
  w.str("format"), w.integer(1);
  w.str("name"), w.str(c.name);
  w.str("storage"), w.str(c.storage);
  w.str("options"), w.raw(c.options);
  w.str("models");
  w.array_header(uint32_t(c.models.size()));
  for (auto& m : c.models) {
    w.map_header(2);
    w.str("name"), w.str(m.name);
    w.str("schema"), w.raw(m.schema);
  }
  std::string json;
  msgpack_to_ejson(MpView(mp), json);
  json += '\n';
  return json;
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = io_error("cannot write", tmp);
      ::close(fd);
      return s;
    }
    p += n, left -= size_t(n);
  }
  if (::fsync(fd) != 0) {
    Status s = io_error("cannot fsync", tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path);
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Status write_catalog(const std::string& dir, const Catalog& c) {
  return write_file_atomically(dir + "/" + kCatalogFile, encode_catalog(c));
}

bool has_catalog(const std::string& dir) {
  return std::filesystem::exists(dir + "/" + kCatalogFile);
}

Result<Catalog> read_catalog(const std::string& dir) {
  std::string path = dir + "/" + kCatalogFile;
  std::ifstream in(path);
  if (!in) return io_error("cannot read", path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string mp;
  Status s = ejson_to_msgpack(ss.str(), mp);
  auto bad = [&](const std::string& why) {
    return make_status(ErrorCode::StorageError, "catalog " + path + " is damaged: " + why);
  };
  if (!s.ok()) return bad(s.message);
  MpView root(mp);
  if (root.type() != MpType::Map) return bad("not an object");
  MpView name = root.get("name"), storage = root.get("storage"), options = root.get("options"),
         models = root.get("models");
  if (!name.valid() || name.type() != MpType::Str || !storage.valid() ||
      storage.type() != MpType::Str || !options.valid() || options.type() != MpType::Map ||
      !models.valid() || models.type() != MpType::Array)
    return bad("missing name, storage, options or models");
  Catalog c;
  c.name = std::string(name.as_str());
  c.storage = std::string(storage.as_str());
  c.options = std::string(options.bytes());
  ArrayIter it(models);
  MpView m;
  while (it.next(m)) {
    MpView mn = m.type() == MpType::Map ? m.get("name") : MpView();
    MpView ms = m.type() == MpType::Map ? m.get("schema") : MpView();
    if (!mn.valid() || mn.type() != MpType::Str || !ms.valid() || ms.type() != MpType::Map)
      return bad("a model entry lacks name or schema");
    c.models.push_back(CatalogModel{std::string(mn.as_str()), std::string(ms.bytes())});
  }
  return c;
}

}  // namespace mg
