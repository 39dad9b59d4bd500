// mailsubj: `mailsubj subject recipient...` sends standard input as a message
// with that Subject: to the recipients, through qmail-inject.
#include <csignal>
#include <iostream>

#include "queue/home.h"
#include "queue/inject_run.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::cerr << "mailsubj: usage: mailsubj subject recipient ...\n";
    return 100;
  }
  // As the original shell script: the recipients joined by spaces on one To: line.
  std::string head = std::string("Subject: ") + argv[1] + "\nTo:";
  for (int i = 2; i < argc; ++i) head += std::string(" ") + argv[i];
  head += "\n\n";
  auto st = queue::run_with_prefix({queue::home_path("bin/qmail-inject")}, head, 0);
  if (!st) {
    std::cerr << "mailsubj: fatal: unable to run qmail-inject: " << st.error().text << "\n";
    return 111;
  }
  return st->signaled ? 111 : st->code;
}
