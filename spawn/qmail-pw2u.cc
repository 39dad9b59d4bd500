// qmail-pw2u [-/ohHuUC] [-cchar] < passwd > assign: writes users/assign lines
// for the accounts of a passwd file. Fatal errors: `qmail-pw2u: fatal: ...`,
// exit 111; a bad option exits 100.
#include <cstdio>
#include <string>

#include "queue/home.h"
#include "reactor/fd.h"
#include "spawn/pw2u.h"

namespace {

int die(const std::string& text) {
  std::fprintf(stderr, "qmail-pw2u: fatal: %s\n", text.c_str());
  return 111;
}

}  // namespace

int main(int argc, char** argv) {
  spawn::Pw2uOptions opts;
  if (!spawn::parse_pw2u_options(argc, argv, opts)) return 100;
  if (!queue::chdir_home()) return die("unable to chdir");
  auto files = spawn::read_pw2u_files();
  if (!files) return die(files.error().text);
  std::string passwd;
  if (!reactor::read_all(0, passwd)) return die("unable to read input");
  spawn::SystemPasswd db;
  auto out = spawn::pw2u(passwd, opts, *files, db);
  if (!out) return die(out.error().text);
  if (!reactor::write_all(1, *out)) return die("unable to write output");
  return 0;
}
