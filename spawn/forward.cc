// forward address...: queues the message (DTLINE in front) to the addresses
// with $NEWSENDER as envelope sender; exit 0, or 100/111 from qmail-queue.
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "spawn/tools_common.h"

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const char* sender = std::getenv("NEWSENDER");
  if (!sender) spawn::die(100, "forward: fatal: NEWSENDER not set");
  const char* dtline = std::getenv("DTLINE");
  if (!dtline) spawn::die(100, "forward: fatal: DTLINE not set");
  std::vector<std::string> rcpts(argv + 1, argv + argc);
  auto qp = spawn::forward_message(0, dtline, sender, rcpts);
  if (!qp) spawn::die(qp.error().temporary ? 111 : 100, "forward: fatal: " + qp.error().text);
  spawn::die(0, "forward: qp " + std::to_string(*qp));
}
