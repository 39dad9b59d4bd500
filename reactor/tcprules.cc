// tcprules: compiles connection rules read on stdin into a cdb for
// tcpserver -x, writing rules.tmp and renaming it over rules.cdb.
#include "reactor/rules_main.h"

int main(int argc, char** argv) { return reactor::rules_main("tcprules", argc, argv); }
