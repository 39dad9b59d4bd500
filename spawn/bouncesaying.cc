// bouncesaying error [program [args]]: bounces with `error`, always or when
// the program exits 0; program exit 111 -> 111, anything else -> 0.
#include "spawn/tools_common.h"

int main(int argc, char** argv) {
  if (argc < 2) spawn::die(100, "bouncesaying: usage: bouncesaying error [ program [ arg ... ] ]");
  if (argc > 2) {
    auto s = spawn::run_program(argv + 2);
    if (!s) spawn::die(111, "bouncesaying: fatal: " + s.error().text);
    if (s->crashed) spawn::die(111, "bouncesaying: fatal: child crashed");
    if (auto code = spawn::filter_exit(*s)) {
      if (*code == 111) spawn::die(111, "bouncesaying: fatal: temporary child error");
      return *code;
    }
  }
  spawn::die(100, argv[1]);
}
