// tests/integration/daemon_process.h — runs the real memgoosed as a child process for
// integration tests (and, later, crash and restart tests).
//
// A DaemonProcess owns a fresh temporary directory (mkdtemp under $TMPDIR or /tmp) laid out as
//   <dir>/req.sock    request endpoint   ipc://<dir>/req.sock (with MG_TEST_REQ_TCP=1 in the
//                                        environment: a free tcp port on 127.0.0.1 instead)
//   <dir>/pub.sock    change streams     ipc://<dir>/pub.sock
//   <dir>/data/       --data-dir
// and starts `memgoosed --bind ... --pub ... --data-dir ... <extra args>` with fork/exec. The
// child's stdout and stderr go to a pipe that a reader thread drains into log(), so the daemon
// never blocks on a full pipe and a test can wait for any log line. start() returns once a line
// containing `ready` was logged (CONTRACT.md §1), and throws with the log if the daemon exits
// or stays silent past the timeout.
//
// Binary: $MEMGOOSED when set (to test another build, e.g. a sanitizer one), otherwise the
// compile definition MEMGOOSED_PATH (CMake: $<TARGET_FILE:memgoosed>).
//
// Lifetime: stop() sends SIGTERM and returns the exit status; kill() sends SIGKILL. Both reap
// the child, after which start() may run the daemon again on the same directory (a restart,
// data kept). The destructor kills a daemon still running and removes the directory. The child
// also gets SIGKILL if the thread that started it dies (PR_SET_PDEATHSIG), so a crashed test
// run leaves no daemon behind: start daemons from a thread that outlives them.
//
// Not thread-safe except log() / wait_for_log(), which may be called while the reader runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mg::testing {

// Exit status as a shell reports it: the exit code, or 128 + signal number when killed.
// kStillRunning when the process did not exit within the time allowed.
inline constexpr int kStillRunning = -1;

struct DaemonOptions {
  std::vector<std::string> extra_args;  // appended after the endpoint and data-dir flags
  std::vector<std::string> extra_env;   // "NAME=value" entries added to (or replacing in) the
                                        // environment
  // The change-stream endpoint (--pub); empty: ipc://<dir>/pub.sock. A direct Watcher needs a
  // tcp:// one (free_tcp_endpoint()).
  std::string pub_endpoint;
  std::chrono::milliseconds ready_timeout{10000};
  bool start = true;  // start in the constructor
};

// "tcp://127.0.0.1:<port>" with a port that was free a moment ago (the kernel's pick for port
// 0); for a daemon that must listen on tcp.
std::string free_tcp_endpoint();

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonOptions opts = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // The memgoosed binary that start() runs.
  static std::string binary_path();

  // Starts the daemon (it must not be running) and waits for its `ready` line. Throws
  // std::runtime_error with the log when it exits first or is not ready in time.
  void start();
  // SIGTERM, then waits up to `timeout` for the exit. Returns the exit status; on timeout
  // kills the daemon with SIGKILL and returns kStillRunning.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGKILL and reap. Returns the exit status (128 + 9 unless it had already exited).
  int kill();
  // Sends `sig` without waiting; wait() collects the exit status afterwards.
  void signal(int sig);
  // Waits up to `timeout` for the exit; kStillRunning when it is still running.
  int wait(std::chrono::milliseconds timeout);
  // True while the child has not exited (reaps it when it has).
  bool running();

  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& req_endpoint() const { return req_; }
  const std::string& pub_endpoint() const { return pub_; }
  // Extra arguments and environment for the next start().
  std::vector<std::string>& extra_args() { return opts_.extra_args; }
  std::vector<std::string>& extra_env() { return opts_.extra_env; }
  // Exit status of the last run that ended (kStillRunning before any).
  int exit_status() const { return status_; }

  // Everything the daemon wrote to stdout/stderr so far, over all its runs.
  std::string log() const;
  // Waits until log() (from byte `from` on) contains `needle`. Returns false on timeout or
  // when the daemon closed its output without writing it.
  bool wait_for_log(std::string_view needle, std::chrono::milliseconds timeout, size_t from = 0);
  // Size of log() now: pass it as `from` to wait for a line written after this point.
  size_t log_size() const;

 private:
  void read_output(int fd);
  void join_reader();
  int reap(int wait_flags);

  DaemonOptions opts_;
  std::string dir_, data_dir_, req_, pub_;
  pid_t pid_ = -1;
  int status_ = kStillRunning;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable grew_;
  std::string log_;   // guarded by mu_
  bool eof_ = false;  // guarded by mu_: the current run closed its output
};

}  // namespace mg::testing
