// maildirwatch: shows the From/To/Subject of $MAILDIR's messages, refreshed
// every $MAILDIRWATCH_INTERVAL seconds (default 30) whenever they change.
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

#include "queue/maildir2mbox_lib.h"
#include "reactor/fd.h"
#include "reactor/log.h"

int main() {
  const char* maildir = getenv("MAILDIR");
  if (!maildir) reactor::die(111, "maildirwatch", "MAILDIR not set");
  long interval = 30;
  if (const char* s = getenv("MAILDIRWATCH_INTERVAL")) interval = std::max(1L, atol(s));
  std::string last;
  for (;;) {
    // Messages of this second are shown too: nothing here depends on order.
    auto entries = queue::scan_maildir(maildir, time(nullptr) + 1);
    if (!entries) reactor::die(111, "maildirwatch", entries.error().text);
    std::string screen;
    for (const auto& e : *entries) {
      auto msg = reactor::read_file(std::string(maildir) + "/" + e.path, 64u << 10);
      if (!msg) continue;  // read by a client meanwhile
      for (const auto& f : queue::header_summary(*msg)) screen += f + "\n";
      screen += "\n";
    }
    if (screen != last) {
      std::string out = "\033[;H\033[;J";  // home and clear, as qmail's maildirwatch
      out += "maildirwatch: " + std::to_string(entries->size()) + " message(s) in " + maildir + "\n\n";
      if (!reactor::write_all(1, out + screen)) return 111;
      last = screen;
    }
    sleep(static_cast<unsigned>(interval));
  }
}
