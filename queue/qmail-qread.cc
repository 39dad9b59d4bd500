// qmail-qread: lists the messages in the queue with their recipients
// (tools.md 5). Messages and errors go to stdout, as in qmail.
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "queue/home.h"
#include "queue/qread.h"
#include "reactor/fd.h"

int main() {
  if (::chdir(queue::qmail_home().c_str()) != 0 || ::chdir("queue") != 0) {
    int e = errno;
    (void)reactor::write_all(1, "fatal: unable to chdir: " + reactor::errno_text(e) + "\n");
    return 111;
  }
  return queue::qread_list(AT_FDCWD, 1);
}
