// bench/procs.h — the processes the suites start: memgoosed and redis-server as children on
// free loopback ports, and redis-benchmark as the Redis baseline. Every suite starts its
// daemons through `Daemon`, nowhere else.
//
// Ports are picked by binding a probe socket on 127.0.0.1 (from a base port upwards, never
// one this process handed out before); a child that still loses the race exits, and the
// starter retries with other ports. Children are stopped with SIGTERM and waited for (SIGKILL
// after a grace period); their stderr goes to a log file whose tail explains a failed start.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace mg::bench {

// A free TCP port on 127.0.0.1 at or above `from`, not returned before by this process.
int pick_port(int from);

// A child process, stopped (SIGTERM, then SIGKILL after `grace_s`) when destroyed.
class Child {
 public:
  // Starts `argv[0]` with `argv`, stdout and stderr appended to `log_path`.
  Child(const std::vector<std::string>& argv, const std::string& log_path);
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it when it has).
  bool running();
  // SIGTERM, wait up to `grace_s` seconds, then SIGKILL. Returns the exit status text
  // ("exit 0", "signal 9", ...), or "" if it was not running.
  std::string stop(double grace_s = 30);
  // The last lines of the log, for error messages.
  std::string log_tail() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when destroyed.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A memgoosed started by the bench: its own request and pub ports (tcp loopback), log level
// warn, and a data dir: a temporary one it owns (removed with it), or `data_dir` when given
// (left in place). The constructor starts it; stop() and start() stop it gracefully and start
// it again on the same data dir, which is how start-up (recovery) time is measured. Starting
// throws std::runtime_error (with the log's tail) when it does not answer a ping within
// `ready_s` seconds.
class Daemon {
 public:
  explicit Daemon(const std::string& binary, const std::string& data_dir = "", double ready_s = 15);
  const std::string& endpoint() const { return endpoint_; }
  const std::string& pub_endpoint() const { return pub_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  // SIGTERM and wait; throws when it does not exit 0.
  void stop();
  // Starts it (after stop(): again, on the same data dir, on new ports). Returns the seconds
  // from fork to the first ping reply.
  double start(double ready_s = 15);

 private:
  bool answers_ping(double ready_s);

  std::string binary_;
  std::optional<TempDir> dir_;
  std::string data_dir_, log_path_;
  std::optional<Child> child_;
  std::string endpoint_, pub_;
};

// Resident set size of process `pid` in bytes (0 if unknown).
size_t rss_of(pid_t pid);

// CPU time (user + system, all threads) of process `pid` so far, in seconds (0 if unknown).
double process_cpu_s(pid_t pid);

// The Redis baseline: redis-server on a free port, then redis-benchmark GET with 50 clients
// and 200-byte values. Returns GET requests/s, or nullopt with `why` set when Redis is not
// installed (then `skippable`) or the benchmark failed.
struct RedisResult {
  std::optional<double> rps;
  std::string why;
  bool skippable = false;
};
RedisResult redis_get_rps(int requests);

}  // namespace mg::bench
