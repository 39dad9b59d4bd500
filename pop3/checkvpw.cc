// checkvpw prog [args...]: checkpassword for virtual POP users. Looks the
// name up in QMAILHOME/users/vpasswd.cdb (see qmail-newvpw), checks the
// password hash, then runs prog as the box's uid/gid with HOME = its directory.
#include "pop3/checkpw.h"
#include "pop3/line_io.h"
#include "pop3/vpw.h"
#include "queue/home.h"
#include "reactor/fd.h"

int main(int argc, char** argv) {
  if (argc < 2) return pop3::kExitMisuse;
  auto in = pop3::read_check_input(3);
  if (!in) return pop3::kExitMisuse;
  auto found = pop3::lookup_vpw(queue::home_path("users/vpasswd.cdb"), in->user);
  if (!found) {
    reactor::write_all(2, "checkvpw: " + found.error().text + "\n");
    pop3::wipe(in->pass);
    return pop3::kExitTemporary;
  }
  bool ok = false;
  if (*found) {
    ok = pop3::verify_password(in->pass, (*found)->hash);
  } else {
    // Hash anyway, with the method and cost qmail-newvpw writes, so an
    // unknown name takes as long as a wrong password.
    pop3::spend_hash(in->pass);
  }
  pop3::wipe(in->pass);
  if (!ok) return pop3::kExitRejected;
  const pop3::VpwEntry& e = **found;
  pop3::Identity who{pop3::vpw_key(in->user), e.dir, "/bin/false", e.uid, e.gid, false};
  return pop3::become_and_exec(who, argv + 1);
}
