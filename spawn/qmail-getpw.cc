// qmail-getpw: prints who controls a local part by qmail's default rules,
// as `user\0uid\0gid\0homedir\0dash\0ext\0`; exits non-zero without output
// on failure (qmail's qlx codes). qmail-lspawn runs it as qmailp.
#include <string>

#include "reactor/fd.h"
#include "spawn/getpw.h"

int main(int argc, char** argv) {
  if (argc < 2 || !argv[1]) return 100;
  spawn::SystemPasswd db;
  auto r = spawn::getpw(argv[1], db, spawn::current_getpw_context());
  if (!r.entry) return spawn::getpw_exit_code(r.failure);
  if (!reactor::write_all(1, spawn::format_getpw(*r.entry))) return spawn::qlx::kSys;
  return 0;
}
