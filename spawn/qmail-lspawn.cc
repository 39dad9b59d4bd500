// qmail-lspawn defaultdelivery: the local delivery spawner. Runs as root
// (or as the tree's single user), reads requests from qmail-send on fd 0,
// reports on fd 1, and runs qmail-local as each recipient's user.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "queue/home.h"
#include "queue/spawn_proto.h"
#include "reactor/loop.h"
#include "spawn/lspawn.h"

int main(int argc, char** argv) {
  if (argc < 2 || !argv[1]) return 100;  // the default delivery is mandatory
  if (!queue::chdir_home() || ::chdir("queue/mess") != 0) return 111;
  ::signal(SIGPIPE, SIG_IGN);
  // Wide slots only when offered and needed, as qmail-rspawn decides.
  const char* w = std::getenv(queue::proto::kWideEnv);
  bool wide = w && *w == '1' && queue::kConfSpawn > 255;
  reactor::Loop loop;
  spawn::LocalChannel channel(argv[1]);
  spawn::Spawner spawner(loop, channel, queue::kConfSpawn, wide, 0, 1);
  spawner.start();
  while (!spawner.finished()) loop.run();
  if (spawner.protocol_error()) {
    std::fprintf(stderr, "qmail-lspawn: fatal: request too long\n");
    return 111;
  }
  return 0;
}
