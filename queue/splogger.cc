// splogger [tag [facility]]: copies stdin lines to syslog (tools.md 8).
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "queue/splog.h"
#include "reactor/fd.h"

int main(int argc, char** argv) {
  const char* tag = argc > 1 ? argv[1] : "splogger";
  openlog(tag, 0, queue::splog_facility(argc > 2 ? argv[2] : nullptr));
  queue::Splogger s([] {
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    return queue::splog_stamp(tv.tv_sec, tv.tv_usec);
  });
  std::vector<queue::SplogRecord> out;
  char buf[4096];
  for (;;) {
    ssize_t n = reactor::read_some(0, buf, sizeof buf);
    if (n <= 0) break;
    s.feed(std::string_view(buf, static_cast<size_t>(n)), out);
    for (auto& r : out) syslog(r.priority, "%s", r.text.c_str());
    out.clear();
  }
  s.finish(out);
  for (auto& r : out) syslog(r.priority, "%s", r.text.c_str());
  return 0;
}
