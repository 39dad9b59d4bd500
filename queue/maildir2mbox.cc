// maildir2mbox: moves $MAILDIR's messages into $MAIL via $MAILTMP.
#include <cstdlib>
#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/maildir2mbox_lib.h"
#include "reactor/fd.h"
#include "reactor/log.h"

namespace {
const char* kProg = "maildir2mbox";
}

int main() {
  umask(077);
  const char* mbox = getenv("MAIL");
  if (!mbox) reactor::die(111, kProg, "MAIL not set");
  const char* mboxtmp = getenv("MAILTMP");
  if (!mboxtmp) reactor::die(111, kProg, "MAILTMP not set");
  const char* maildir = getenv("MAILDIR");
  if (!maildir) reactor::die(111, kProg, "MAILDIR not set");
  // As qmail: relative MAIL and MAILTMP are taken from inside the Maildir.
  if (chdir(maildir) == -1)
    reactor::die(111, kProg, std::string("unable to chdir to ") + maildir + ": " + reactor::errno_text(errno));
  std::vector<std::string> warnings;
  auto st = queue::maildir_to_mbox(".", mbox, mboxtmp, time(nullptr), warnings);
  for (const auto& w : warnings) reactor::warning(kProg, w);
  if (!st) reactor::die(111, kProg, st.error().text);
  return 0;
}
