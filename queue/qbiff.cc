// qbiff: from a .qmail file, tells $USER's terminals that have `biff y`
// (owner-execute bit on the tty) about the new message. Never fails a delivery.
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include "queue/maildir2mbox_lib.h"
#include "reactor/fd.h"

int main() {
  const char* user = getenv("USER");
  std::string msg;
  reactor::read_all(0, msg, 16u << 10);  // only the header matters
  if (!user) return 0;
  std::string note = "\r\n*** TO <";
  if (const char* r = getenv("RECIPIENT")) note += r;
  note += ">\r\n";
  for (const auto& f : queue::header_summary(msg)) note += f.substr(0, 78) + "\r\n";
  setutxent();
  while (struct utmpx* u = getutxent()) {
    if (u->ut_type != USER_PROCESS) continue;
    if (std::string(u->ut_user, strnlen(u->ut_user, sizeof u->ut_user)) != user) continue;
    std::string tty = "/dev/" + std::string(u->ut_line, strnlen(u->ut_line, sizeof u->ut_line));
    if (tty.find("..") != std::string::npos) continue;
    struct stat st;
    if (stat(tty.c_str(), &st) == -1 || !(st.st_mode & S_IXUSR)) continue;  // biff n
    if (st.st_uid != getuid()) continue;  // only the recipient's own terminals
    int fd = open(tty.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1) continue;
    reactor::write_all(fd, note);
    close(fd);
  }
  endutxent();
  return 0;
}
