// bench/procs.cc — child processes of the daemon suite (see procs.h).
#include "bench/procs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/stats.h"
#include "clients/cpp/client.h"

namespace mg::bench {

namespace {

// Whether a TCP socket can bind 127.0.0.1:port (with SO_REUSEADDR, as ZeroMQ and Redis do).
bool can_bind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 1) == 0;
  close(fd);
  return ok;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

bool executable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

// Runs `cmd` through the shell and returns its stdout and stderr.
std::string capture(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, k);
  pclose(p);
  return out;
}

}  // namespace

int pick_port(int from) {
  static std::set<int> given;
  for (int port = from; port < from + 2000 && port < 65536; ++port) {
    if (given.count(port) || !can_bind(port)) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1 from " + std::to_string(from));
}

// ---- Child ----

Child::Child(const std::vector<std::string>& argv, const std::string& log_path)
    : log_path_(log_path) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + log_path);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(log, 1);
    dup2(log, 2);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    execv(args[0], args.data());
    std::fprintf(stderr, "cannot exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(log);
}

bool Child::running() {
  if (pid_ < 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;
  return false;
}

std::string Child::stop(double grace_s) {
  if (pid_ < 0) return "";
  kill(pid_, SIGTERM);
  int status = 0;
  double deadline = now_s() + grace_s;
  pid_t r = 0;
  while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && now_s() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (r == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  return "signal " + std::to_string(WTERMSIG(status));
}

std::string Child::log_tail() const {
  std::ifstream in(log_path_);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i)
    out += "\n  " + lines[i];
  return out;
}

// ---- TempDir ----

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---- Daemon ----

Daemon::Daemon(const std::string& binary, const std::string& data_dir, double ready_s)
    : binary_(binary) {
  if (!executable(binary))
    throw std::runtime_error("memgoosed not found at " + binary + " (use --memgoosed PATH)");
  std::string log_dir;
  if (data_dir.empty()) {
    dir_.emplace("memgoose-bench-");
    data_dir_ = dir_->path() + "/data", log_dir = dir_->path();
  } else {
    data_dir_ = data_dir, log_dir = std::filesystem::path(data_dir).parent_path().string();
  }
  log_path_ = log_dir + "/memgoosed.log";
  start(ready_s);
}

double Daemon::start(double ready_s) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    int req = pick_port(27377), pub = pick_port(27378);
    endpoint_ = "tcp://127.0.0.1:" + std::to_string(req);
    pub_ = "tcp://127.0.0.1:" + std::to_string(pub);
    double t0 = now_s();
    child_.emplace(std::vector<std::string>{binary_, "--bind", endpoint_, "--pub", pub_,
                                            "--data-dir", data_dir_, "--log-level", "warn"},
                   log_path_);
    if (answers_ping(ready_s)) return now_s() - t0;
    std::string why = child_->running() ? "no ping reply in time" : "it exited";
    std::string tail = child_->log_tail();
    child_->stop(1);
    child_.reset();
    if (why != "it exited" || attempt == 2)
      throw std::runtime_error("memgoosed did not start (" + why + "):" + tail);
  }
  return 0;
}

// Pings through one client (reconnecting every 5 ms, so the first reply comes within a few
// ms of the daemon binding) until a reply, the child's exit, or `ready_s`.
bool Daemon::answers_ping(double ready_s) {
  client::ClientOptions o;
  o.timeout_ms = 50;
  o.configure_socket = [](zmq::socket_t& s) {
    s.set(zmq::sockopt::reconnect_ivl, 5);
    s.set(zmq::sockopt::linger, 0);
  };
  client::Client c(endpoint_, o);
  double deadline = now_s() + ready_s;
  while (child_->running() && now_s() < deadline) {
    try {
      c.ping();
      return true;
    } catch (const client::Error&) {
    }
  }
  return false;
}

void Daemon::stop() {
  if (!child_) return;
  std::string st = child_->stop(120), tail = child_->log_tail();
  child_.reset();
  if (st != "exit 0")
    throw std::runtime_error("memgoosed did not stop cleanly on SIGTERM (" + st + "):" + tail);
}

size_t rss_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  long pages = 0, resident = 0;
  if (!(in >> pages >> resident)) return 0;
  return size_t(resident) * size_t(sysconf(_SC_PAGESIZE));
}

double process_cpu_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / double(sysconf(_SC_CLK_TCK));
}

// ---- Redis ----

RedisResult redis_get_rps(int requests) {
  const std::string server = "/usr/bin/redis-server", bench = "/usr/bin/redis-benchmark";
  RedisResult res;
  for (auto& tool : {server, bench}) {
    if (executable(tool)) continue;
    res.why = tool + " is not installed (scripts/setup.sh installs redis-server redis-tools)";
    res.skippable = true;
    return res;
  }
  TempDir dir("memgoose-bench-redis-");
  int port = pick_port(27380);
  Child redis({server, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", "--dir", dir.path()},
              dir.path() + "/redis.log");
  double deadline = now_s() + 10;
  while (redis.running() && !accepts(port) && now_s() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!redis.running() || !accepts(port)) {
    res.why = "redis-server did not start:" + redis.log_tail();
    return res;
  }
  std::string cmd = bench + " -p " + std::to_string(port) + " -t get -c 50 -d 200 -n " +
                    std::to_string(requests) + " -q";
  std::string out = capture(cmd);
  redis.stop(5);
  std::smatch m;
  static const std::regex rps("GET: ([0-9.]+) requests per second");
  if (std::regex_search(out, m, rps)) {
    res.rps = std::stod(m[1]);
  } else {
    res.why = "no 'requests per second' in the output of " + cmd;
  }
  return res;
}

}  // namespace mg::bench
