// clients/cli/watch.cc — `memgoose watch db.Model [--after N] [--pub ENDPOINT]`.
//
// Follows the model's change stream with the client library's Watcher (clients/cpp/watch.h)
// and prints each event as one line of Extended JSON, flushed at once so that a pipe reader
// sees it immediately:
//   {"seq":7,"op":"update","id":"65a1...","doc":{...},"ts":{"$date":"2024-01-02T03:04:05.678Z"}}
// (`doc` is left out for delete and drop events, as on the wire). Without --after it starts
// with the events from now on; --after N replays the retained events after seq N first. Runs
// until SIGINT or SIGTERM (exit 0); ChangeStreamHistoryLost and other errors end it with the
// usual "<ErrorName>: <message>" on stderr and exit 1.
#include <csignal>
#include <cstdio>
#include <string>

#include "clients/cli/cli.h"
#include "clients/cpp/watch.h"
#include "core/ejson.h"

namespace mg::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

// Without SA_RESTART, so that a wait in progress returns (EINTR) and the loop sees g_stop.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// The event as the map {seq, op, id, doc?, ts}, then as one JSON line.
std::string event_line(const client::Event& e) {
  std::string mp;
  MpWriter w(mp);
  w.map_header(e.doc.empty() ? 4 : 5);
  w.str("seq"), w.integer(int64_t(e.seq));
  w.str("op"), w.str(e.op);
  w.str("id"), w.raw(e.id);
  if (!e.doc.empty()) w.str("doc"), w.raw(e.doc);
  w.str("ts"), w.date(e.ts);
  std::string line;
  msgpack_to_ejson(MpView(mp), line);
  line.push_back('\n');
  return line;
}

}  // namespace

int run_watch(const Connection& conn, const WatchArgs& a) {
  Namespace ns = parse_namespace(a.ns);
  client::WatchOptions opts;
  opts.client = client_options(conn);
  uint64_t after = a.after < 0 ? client::Watcher::kNow : uint64_t(a.after);
  install_stop_handlers();
  client::Watcher w(conn.endpoint, a.pub, ns.db, ns.model, after, opts);
  while (!g_stop) {
    std::optional<client::Event> e = w.next(std::chrono::milliseconds(500));
    if (!e) continue;
    std::string line = event_line(*e);
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout))
      return 1;  // stdout closed: nobody is reading any more
  }
  return 0;
}

}  // namespace mg::cli
