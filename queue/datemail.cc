// datemail: sendmail with a Date: line in local time (FAQ 6.1), i.e.
// `predate sendmail args...` from the qmail home's bin.
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "queue/home.h"

int main(int argc, char** argv) {
  std::string predate = queue::home_path("bin/predate");
  std::string sendmail = queue::home_path("bin/sendmail");
  std::vector<char*> xargv{predate.data(), sendmail.data()};
  for (int i = 1; i < argc; ++i) xargv.push_back(argv[i]);
  xargv.push_back(nullptr);
  ::execv(xargv[0], xargv.data());
  std::cerr << "datemail: fatal: unable to run predate\n";
  return 111;
}
