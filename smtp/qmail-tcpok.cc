// qmail-tcpok: forgets every recorded connection timeout, so qmail-remote
// tries all hosts again (run after a network outage, then ALRM qmail-send).
#include "queue/home.h"
#include "reactor/log.h"
#include "smtp/tcpto.h"

int main() {
  if (!queue::chdir_home()) reactor::die(111, "qmail-tcpok", "unable to chdir to " + queue::qmail_home());
  auto st = smtp::tcpto::file_clear();
  if (!st) reactor::die(111, "qmail-tcpok", st.error().text);
  return 0;
}
