// predate: runs a program with a Date: line in local time put before its
// standard input (FAQ 6.1; datemail is `predate sendmail`).
#include <csignal>
#include <ctime>
#include <iostream>

#include "queue/date822.h"
#include "queue/inject_run.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::cerr << "predate: usage: predate child\n";
    return 100;
  }
  std::string date = "Date: " + queue::date822_local(std::time(nullptr)) + "\n";
  auto st = queue::run_with_prefix(std::vector<std::string>(argv + 1, argv + argc), date, 0);
  if (!st) {
    std::cerr << "predate: fatal: unable to run " << argv[1] << ": " << st.error().text << "\n";
    return 111;
  }
  if (st->signaled) {
    std::cerr << "predate: fatal: child crashed\n";
    return 111;
  }
  return st->code;
}
