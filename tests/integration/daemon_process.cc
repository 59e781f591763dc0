// tests/integration/daemon_process.cc — see daemon_process.h. fork/exec with everything the
// child needs (argv, envp) built before fork(), so the child runs only async-signal-safe calls.
#include "tests/integration/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;

namespace mg::testing {

namespace {

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/memgoosed-it-XXXXXX";
  if (!mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  return tmpl;
}

int decode_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return kStillRunning;
}

// The parent's environment without systemd's notification variables: a test daemon must not
// talk to the service manager of whoever runs the tests.
// This process's environment without systemd's notification variables and without the
// variables `extra` sets (getenv finds the first entry of a name), followed by `extra`.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](std::string_view kv) { return kv.substr(0, kv.find('=') + 1); };
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("WATCHDOG_PID=") ||
        kv.starts_with("WATCHDOG_USEC="))
      continue;
    bool replaced = false;
    for (const std::string& x : extra) replaced = replaced || name_of(x) == name_of(kv);
    if (!replaced) env.emplace_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(pid_t parent, int out_fd, const char* dir, char** argv, char** envp) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD}) sigaction(sig, &dfl, nullptr);
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) _exit(127);
#ifdef SYS_close_range
  syscall(SYS_close_range, 3u, ~0u, 0u);  // no test socket or pipe leaks into the daemon
#endif
  if (chdir(dir) != 0) _exit(127);
  execve(argv[0], argv, envp);
  const char msg[] = "daemon_process: execve of memgoosed failed\n";
  [[maybe_unused]] ssize_t n = write(2, msg, sizeof msg - 1);
  _exit(127);
}

}  // namespace

std::string free_tcp_endpoint() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error(std::string("no free tcp port: ") + strerror(errno));
  return "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

DaemonProcess::DaemonProcess(DaemonOptions opts) : opts_(std::move(opts)) {
  dir_ = make_temp_dir();
  data_dir_ = dir_ + "/data";
  // MG_TEST_REQ_TCP=1 (the ctest entries integration.<name>.tcp): the request endpoint on a tcp
  // port instead, served by the daemon's own ROUTER (daemon/direct_router.h).
  const char* tcp = std::getenv("MG_TEST_REQ_TCP");
  req_ = tcp && std::string(tcp) == "1" ? free_tcp_endpoint() : "ipc://" + dir_ + "/req.sock";
  pub_ = opts_.pub_endpoint.empty() ? "ipc://" + dir_ + "/pub.sock" : opts_.pub_endpoint;
  if (opts_.start) {
    try {
      start();
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      throw;
    }
  }
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) kill();
  join_reader();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string DaemonProcess::binary_path() {
  if (const char* env = std::getenv("MEMGOOSED"); env && *env) return env;
#ifdef MEMGOOSED_PATH
  return MEMGOOSED_PATH;
#else
  return "memgoosed";
#endif
}

void DaemonProcess::start() {
  if (pid_ > 0) throw std::logic_error("DaemonProcess::start: memgoosed is already running");
  join_reader();
  std::vector<std::string> args{binary_path(), "--bind",     req_,     "--pub",
                                pub_,          "--data-dir", data_dir_};
  args.insert(args.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  std::vector<std::string> env = child_environment(opts_.extra_env);
  std::vector<char*> argv = c_array(args), envp = c_array(env);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + strerror(errno));
  size_t from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    eof_ = false;
    from = log_.size();
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) exec_child(parent, fds[1], dir_.c_str(), argv.data(), envp.data());
  close(fds[1]);
  pid_ = pid;
  reader_ = std::thread([this, fd = fds[0]] { read_output(fd); });
  if (wait_for_log("ready", opts_.ready_timeout, from)) return;
  int status = running() ? kill() : status_;
  throw std::runtime_error("memgoosed (" + binary_path() + ") not ready within " +
                           std::to_string(opts_.ready_timeout.count()) + " ms, exit status " +
                           std::to_string(status) + "; its output:\n" + log().substr(from));
}

int DaemonProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  ::kill(pid_, SIGTERM);
  int status = wait(timeout);
  if (status != kStillRunning) return status;
  kill();
  return kStillRunning;
}

int DaemonProcess::kill() {
  if (pid_ <= 0) return status_;
  ::kill(pid_, SIGKILL);
  return reap(0);
}

void DaemonProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int DaemonProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = reap(WNOHANG);
    if (status != kStillRunning || pid_ <= 0) return status;
    if (std::chrono::steady_clock::now() >= deadline) return kStillRunning;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return status_;
}

bool DaemonProcess::running() {
  if (pid_ > 0) reap(WNOHANG);
  return pid_ > 0;
}

int DaemonProcess::reap(int wait_flags) {
  int wstatus = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &wstatus, wait_flags);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return kStillRunning;
  status_ = r == pid_ ? decode_status(wstatus) : kStillRunning;  // r < 0: reaped elsewhere
  pid_ = -1;
  join_reader();
  return status_;
}

void DaemonProcess::read_output(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(buf, size_t(n));
    grew_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  grew_.notify_all();
}

void DaemonProcess::join_reader() {
  if (reader_.joinable()) reader_.join();
}

std::string DaemonProcess::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

size_t DaemonProcess::log_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.size();
}

bool DaemonProcess::wait_for_log(std::string_view needle, std::chrono::milliseconds timeout,
                                 size_t from) {
  std::unique_lock<std::mutex> lock(mu_);
  auto found = [&] { return log_.size() >= from && log_.find(needle, from) != std::string::npos; };
  grew_.wait_for(lock, timeout, [&] { return found() || eof_; });
  return found();
}

}  // namespace mg::testing
