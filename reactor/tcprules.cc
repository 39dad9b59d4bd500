// tcprules: compiles connection rules read on stdin into a cdb for
// tcpserver -x, writing rules.tmp and renaming it over rules.cdb.
#include <string>

#include "reactor/fd.h"
#include "reactor/rules.h"

using namespace reactor;

int main(int argc, char** argv) {
  if (argc < 3) {
    write_all(2, "tcprules: usage: tcprules rules.cdb rules.tmp\n");
    return 100;
  }
  std::string text;
  if (!read_all(0, text)) {
    write_all(2, "tcprules: fatal: unable to read input: " + errno_text(errno) + "\n");
    return 111;
  }
  auto s = compile_rules(text, argv[1], argv[2]);
  if (!s) {
    write_all(2, "tcprules: fatal: " + s.error().text + "\n");
    return s.error().temporary ? 111 : 100;
  }
  return 0;
}
