// except program [args]: inverts a program's verdict for .qmail files:
// exit 0 -> 100, 111 -> 111, anything else -> 0.
#include "spawn/tools_common.h"

int main(int argc, char** argv) {
  if (argc < 2) spawn::die(100, "except: usage: except program [ arg ... ]");
  auto s = spawn::run_program(argv + 1);
  if (!s) spawn::die(111, "except: fatal: " + s.error().text);
  if (s->crashed) spawn::die(111, "except: fatal: child crashed");
  if (s->code == 111) spawn::die(111, "except: fatal: temporary child error");
  return spawn::except_exit(*s);
}
