// Shared main body of tcprules and tcpmakectl: read rules text on stdin and
// compile it to a cdb through a temporary file (reactor/rules.h does the work).
#include "reactor/rules_main.h"

#include <cerrno>
#include <string>

#include "reactor/fd.h"
#include "reactor/rules.h"

namespace reactor {

int rules_main(const char* progname, int argc, char** argv) {
  std::string name(progname);
  if (argc < 3) {
    write_all(2, name + ": usage: " + name + " rules.cdb rules.tmp\n");
    return 100;
  }
  std::string text;
  if (!read_all(0, text)) {
    write_all(2, name + ": fatal: unable to read input: " + errno_text(errno) + "\n");
    return 111;
  }
  // Parse errors are permanent (100); writing or renaming trouble is temporary (111).
  auto s = compile_rules(text, argv[1], argv[2]);
  if (!s) {
    write_all(2, name + ": fatal: " + s.error().text + "\n");
    return s.error().temporary ? 111 : 100;
  }
  return 0;
}

}  // namespace reactor
