// qmail-tcpto: lists the hosts qmail-remote recently found timing out
// (queue/lock/tcpto), in qmail's format.
#include <cstdio>

#include "queue/home.h"
#include "reactor/fd.h"
#include "smtp/tcpto.h"

int main() {
  if (!queue::chdir_home()) {
    std::printf("fatal: unable to chdir\n");
    return 111;
  }
  auto text = smtp::tcpto::file_listing();
  if (!text) {
    std::printf("fatal: %s\n", text.error().text.c_str());
    return 111;
  }
  return reactor::write_all(1, *text) ? 0 : 111;
}
