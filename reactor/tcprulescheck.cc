// tcprulescheck: shows which rule of a tcprules cdb applies to the
// connection described by $TCPREMOTEIP, $TCPREMOTEHOST and $TCPREMOTEINFO.
#include <cstdlib>
#include <optional>
#include <string>

#include "reactor/fd.h"
#include "reactor/inet.h"
#include "reactor/rules.h"

using namespace reactor;

int main(int argc, char** argv) {
  if (argc < 2) {
    write_all(2, "tcprulescheck: usage: tcprulescheck rules.cdb\n");
    return 100;
  }
  std::string ip = env_var("TCPREMOTEIP").value_or("0.0.0.0");
  auto m = match_rules_file(argv[1], ip, env_var("TCPREMOTEHOST"), env_var("TCPREMOTEINFO"));
  if (!m) {
    std::string why = m.error().text == "ENOENT" ? errno_text(ENOENT) : m.error().text;
    write_all(2, std::string("tcprulescheck: fatal: unable to read ") + argv[1] + ": " + why + "\n");
    return 111;
  }
  write_all(1, *m ? describe_rule((*m)->key, (*m)->value) : "default:\nallow connection\n");
  return 0;
}
