// condredirect newaddress program [args]: if the program exits 0, forwards
// the message (DTLINE in front) to newaddress and exits 99; 111 -> 111;
// anything else (or no such program) -> 0. Like qmail's condredirect, the
// envelope sender is $SENDER (not $NEWSENDER).
#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "spawn/tools_common.h"

int main(int argc, char** argv) {
  if (argc < 3) spawn::die(100, "condredirect: usage: condredirect newaddress program [ arg ... ]");
  auto s = spawn::run_program(argv + 2);
  if (!s) spawn::die(111, "condredirect: fatal: " + s.error().text);
  if (s->crashed) spawn::die(111, "condredirect: fatal: child crashed");
  if (auto code = spawn::filter_exit(*s)) {
    if (*code == 111) spawn::die(111, "condredirect: fatal: temporary child error");
    return *code;
  }
  // The program may have read the message: start it again from the top.
  if (::lseek(0, 0, SEEK_SET) != 0) spawn::die(111, "condredirect: fatal: unable to rewind");
  ::signal(SIGPIPE, SIG_IGN);
  const char* sender = std::getenv("SENDER");
  if (!sender) spawn::die(100, "condredirect: fatal: SENDER not set");
  const char* dtline = std::getenv("DTLINE");
  if (!dtline) spawn::die(100, "condredirect: fatal: DTLINE not set");
  auto qp = spawn::forward_message(0, dtline, sender, {argv[1]});
  if (!qp) spawn::die(qp.error().temporary ? 111 : 100, "condredirect: fatal: " + qp.error().text);
  spawn::die(99, "condredirect: qp " + std::to_string(*qp));
}
