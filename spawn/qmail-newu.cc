// qmail-newu: compiles QMAILHOME/users/assign into users/cdb through
// users/cdb.tmp, fsync and rename, so readers see the old or the new file.
// Any failure: `qmail-newu: fatal: ...`, exit 111, old users/cdb untouched.
#include <cerrno>
#include <cstdio>
#include <sys/stat.h>

#include "queue/home.h"
#include "reactor/fd.h"
#include "spawn/users.h"

namespace {

int die(const std::string& text) {
  std::fprintf(stderr, "qmail-newu: fatal: %s\n", text.c_str());
  return 111;
}

}  // namespace

int main() {
  ::umask(033);
  if (auto s = queue::chdir_home(); !s) return die("unable to chdir");
  auto text = reactor::read_file("users/assign");
  if (!text) {
    if (!text.error().temporary) return die("unable to open users/assign");
    return die("unable to read users/assign");
  }
  auto assign = spawn::parse_assign(*text);
  if (!assign) return die(assign.error().text);
  if (auto s = spawn::write_users_cdb(*assign, "users/cdb"); !s) return die(s.error().text);
  return 0;
}
