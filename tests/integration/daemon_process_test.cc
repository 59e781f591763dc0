// tests/integration/daemon_process_test.cc — the DaemonProcess helper itself, since crash and
// restart tests will build on it: the temporary layout, the ready wait, stop() with SIGTERM
// (exit 0), kill() with SIGKILL (137), a restart on the same directory, a daemon that fails to
// start (start() throws with its one-line reason), and the cleanup of the directory.
#define BOOST_TEST_MODULE integration_daemon_process
#include <csignal>
#include <filesystem>

#include "tests/integration/harness.h"

using namespace mg::it;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(layout_ready_and_sigterm) {
  std::string dir;
  {
    DaemonProcess d;
    dir = d.dir();
    BOOST_TEST(fs::is_directory(d.data_dir()));
    BOOST_TEST(d.req_endpoint() == "ipc://" + dir + "/req.sock");
    BOOST_TEST(d.pub_endpoint() == "ipc://" + dir + "/pub.sock");
    BOOST_TEST(d.running());
    BOOST_TEST(d.log().find("ready") != std::string::npos);
    Client c(d.req_endpoint(), client_options(5000));
    BOOST_TEST(c.ping().ok());
    BOOST_TEST(d.stop() == 0, d.log());
    BOOST_TEST(!d.running());
    BOOST_TEST(d.exit_status() == 0);
    BOOST_TEST(d.log().find("stopped") != std::string::npos, d.log());
  }
  BOOST_TEST(!fs::exists(dir), dir << " left behind");
}

BOOST_AUTO_TEST_CASE(kill_then_restart_on_the_same_directory) {
  DaemonProcess d;
  pid_t first = d.pid();
  BOOST_TEST(d.kill() == 128 + SIGKILL);
  BOOST_TEST(!d.running());
  d.start();
  BOOST_TEST(d.running());
  BOOST_TEST(d.pid() != first);
  Client c(d.req_endpoint(), client_options(5000));
  BOOST_TEST(c.ping().ok());
  // The log keeps both runs: two ready lines.
  std::string log = d.log();
  BOOST_TEST(log.find("ready") != log.rfind("ready"), log);
  BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(signal_and_wait) {
  DaemonProcess d;
  BOOST_TEST(d.wait(milliseconds(50)) == mg::testing::kStillRunning);
  size_t mark = d.log_size();
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_for_log("stopping", milliseconds(5000), mark), d.log());
  BOOST_TEST(d.wait(milliseconds(10000)) == 0, d.log());
  BOOST_TEST(!d.wait_for_log("never written", milliseconds(10)));
}

BOOST_AUTO_TEST_CASE(a_daemon_that_cannot_start_throws_with_its_reason) {
  DaemonOptions o;
  o.extra_args = {"--log-level", "loud"};
  o.ready_timeout = milliseconds(5000);
  try {
    DaemonProcess d(o);
    BOOST_FAIL("memgoosed started with --log-level loud");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("not ready") != std::string::npos, what);
    BOOST_TEST(what.find("memgoosed:") != std::string::npos, what);  // its one-line reason
    BOOST_TEST(what.find("exit status 0") == std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(not_started_until_asked) {
  DaemonOptions o;
  o.start = false;
  o.ready_timeout = milliseconds(2000);
  DaemonProcess d(o);
  BOOST_TEST(!d.running());
  BOOST_TEST(d.stop() == mg::testing::kStillRunning);  // nothing ran yet
  d.extra_args() = {"--log-level", "warn"};
  BOOST_CHECK_THROW(d.start(), std::runtime_error);  // no `ready` line at warn level
  d.extra_args().clear();
  d.start();
  BOOST_TEST(d.running());
  BOOST_CHECK_THROW(d.start(), std::logic_error);  // already running
  BOOST_TEST(d.stop() == 0);
}
