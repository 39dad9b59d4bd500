// qmail-rspawn, placeholder until remote delivery exists: speaks the spawn
// protocol (hello byte, requests, reports) and defers every request with a
// `Z`, so remote recipients stay queued in queue/remote/. Kept tiny on purpose.
#include <csignal>
#include <string>

#include "queue/home.h"
#include "reactor/fd.h"
#include "queue/spawn_proto.h"

int main() {
  ::signal(SIGPIPE, SIG_IGN);
  char hello = static_cast<char>(queue::kConfSpawn);
  if (!reactor::write_all(1, std::string_view(&hello, 1))) return 111;
  queue::proto::RequestDecoder decoder;
  char buf[4096];
  for (;;) {
    ssize_t n = reactor::read_some(0, buf, sizeof buf);
    if (n <= 0) return 0;
    decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (auto r = decoder.next()) {
      queue::proto::Report rep{r->slot, 'Z', "Remote delivery is not available in this build yet. (#4.3.0)\n"};
      if (!reactor::write_all(1, queue::proto::encode_report(rep))) return 111;
    }
    if (decoder.error()) return 111;
  }
}
