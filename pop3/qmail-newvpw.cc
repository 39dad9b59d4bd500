// qmail-newvpw: compiles QMAILHOME/users/vpasswd into users/vpasswd.cdb for
// checkvpw.  qmail-newvpw -h: reads a password on stdin, prints its hash.
#include <cstring>
#include <string>

#include "pop3/checkpw.h"
#include "pop3/line_io.h"
#include "pop3/vpw.h"
#include "queue/home.h"
#include "reactor/fd.h"

namespace {
int fatal(const std::string& text, bool temporary) {
  reactor::write_all(2, "qmail-newvpw: fatal: " + text + "\n");
  return temporary ? 111 : 100;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "-h") == 0) {
    std::string pass;
    if (!reactor::read_all(0, pass, 4096)) return fatal("unable to read the password", true);
    size_t nl = pass.find_first_of("\r\n");
    if (nl != std::string::npos) pass.resize(nl);
    if (pass.empty()) return fatal("empty password", false);
    auto h = pop3::make_hash(pass);
    pop3::wipe(pass);
    if (!h) return fatal(h.error().text, true);
    return reactor::write_all(1, *h + "\n") ? 0 : 111;
  }
  if (argc != 1) return fatal("usage: qmail-newvpw [-h]", false);
  if (auto s = queue::chdir_home(); !s) return fatal(s.error().text, true);
  if (auto s = pop3::build_vpasswd("users/vpasswd", "users/vpasswd.cdb"); !s)
    return fatal(s.error().text, s.error().temporary);
  return 0;
}
