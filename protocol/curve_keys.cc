// protocol/curve_keys.cc — see curve_keys.h.
#include "protocol/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace mg {

namespace {

std::string trim(std::string s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && ws(s[i])) ++i;
  return s.substr(i);
}

Status bad(const std::string& path, const std::string& why) {
  return make_status(ErrorCode::BadValue, "CURVE key file " + path + ": " + why);
}

// The keys of `path` whose line form is a bare key or `<name> = "<key>"`, in file order,
// with their line numbers. `name` selects "public-key" or "secret-key" lines.
Status read_keys(const std::string& path, const std::string& name,
                 std::vector<std::pair<std::string, int>>& out) {
  std::ifstream in(path);
  if (!in) return bad(path, "cannot be read");
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    line = trim(line);
    // Z85 has '#' and '=' in its alphabet: a line of exactly one valid key is a key.
    bool bare = valid_curve_key(line);
    if (line.empty() || (!bare && line[0] == '#')) continue;
    if (auto eq = line.find('='); !bare && eq != std::string::npos) {
      if (trim(line.substr(0, eq)) != name) continue;  // zcert metadata, the other key
      line = trim(line.substr(eq + 1));
      if (line.size() >= 2 && line.front() == '"' && line.back() == '"')
        line = line.substr(1, line.size() - 2);
    }
    if (!valid_curve_key(line))
      return bad(path, "line " + std::to_string(no) +
                           " is not a Z85 CURVE key (40 characters, as zmq_curve_keypair writes)");
    out.emplace_back(line, no);
  }
  return Status::OK();
}

Result<std::string> one_key(const std::string& path, const std::string& name) {
  std::vector<std::pair<std::string, int>> keys;
  if (Status s = read_keys(path, name, keys); !s.ok()) return s;
  if (keys.empty()) return bad(path, "holds no " + name);
  return keys.front().first;
}

Status write_private(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return bad(path, std::string("cannot be created: ") + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return bad(path, std::string("cannot be written: ") + std::strerror(errno));
  return Status::OK();
}

}  // namespace

bool valid_curve_key(const std::string& z85) {
  if (z85.size() != 40) return false;
  uint8_t bin[32];
  return zmq_z85_decode(bin, z85.c_str()) != nullptr;
}

Result<std::string> read_curve_public_key(const std::string& path) {
  return one_key(path, "public-key");
}

Result<CurveKeyPair> read_curve_secret_key(const std::string& path, bool require_private) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return bad(path, "cannot be read");
  if (require_private && (st.st_mode & 077))
    return bad(path, "is readable by group or others (mode " +
                         std::to_string((st.st_mode >> 6) & 7) +
                         std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                         "): chmod 600 it");
  auto secret = one_key(path, "secret-key");
  if (!secret.ok()) return secret.status();
  CurveKeyPair kp;
  kp.secret_key = secret.value();
  char pub[41];
  if (zmq_curve_public(pub, kp.secret_key.c_str()) != 0)
    return bad(path, "the secret key is not usable (is libzmq built with CURVE?)");
  kp.public_key = pub;
  return kp;
}

Result<std::vector<std::string>> read_curve_allow_list(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (auto& e : fs::directory_iterator(path, ec))
      if (e.is_regular_file() && e.path().extension() == ".pub") files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<std::string> out;
  for (auto& f : files) {
    std::vector<std::pair<std::string, int>> keys;
    if (Status s = read_keys(f, "public-key", keys); !s.ok()) return s;
    for (auto& k : keys) out.push_back(k.first);
  }
  if (out.empty())
    return make_status(ErrorCode::BadValue,
                       "CURVE allow-list " + path +
                           " holds no public key (a file of Z85 keys, or a directory of *.pub "
                           "files): it would admit no client");
  return out;
}

CurveKeyPair generate_curve_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error("zmq_curve_keypair failed: libzmq is built without CURVE");
  return {pub, sec};
}

Status write_curve_keypair(const std::string& base, const CurveKeyPair& keys,
                           std::vector<std::string>* written) {
  std::string pub = base + ".pub", key = base + ".key";
  for (auto& p : {pub, key})
    if (::access(p.c_str(), F_OK) == 0) return bad(p, "exists already (not overwritten)");
  Status s = write_private(pub,
                           "# memgoose CURVE public key (Z85): give it to the server's "
                           "allow-list, or to clients as the server key\n" +
                               keys.public_key + "\n");
  if (!s.ok()) return s;
  s = write_private(key, "# memgoose CURVE secret key (Z85): keep it private\n# public key: " +
                             keys.public_key + "\n" + keys.secret_key + "\n");
  if (!s.ok()) return s;
  if (written) *written = {pub, key};
  return Status::OK();
}

}  // namespace mg
