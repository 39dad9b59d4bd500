// tcpcontrol rules.cdb program [arg ...]: the pre-ucspi-tcp rules filter the
// qmail FAQ 5.4 puts before qmail-smtpd. It looks up $TCPREMOTEIP,
// $TCPREMOTEHOST and $TCPREMOTEINFO in a tcprules cdb exactly as tcpserver -x
// does; a deny rule ends the connection (exit 100) without running the
// program, otherwise the rule's variables are set and the program runs.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "reactor/fd.h"
#include "reactor/inet.h"
#include "reactor/rules.h"

using namespace reactor;

int main(int argc, char** argv) {
  if (argc < 3) {
    write_all(2, "tcpcontrol: usage: tcpcontrol rules.cdb program [ arg ... ]\n");
    return 100;
  }
  // Without an address nothing but the default rule could match; refuse to
  // guess (tcpserver or tcp-env must run first).
  auto ip = env_var("TCPREMOTEIP");
  if (!ip) {
    write_all(2, "tcpcontrol: fatal: TCPREMOTEIP is not set\n");
    return 111;
  }
  // Like tcpserver -x without -X: an unreadable or missing cdb drops the connection.
  auto m = match_rules_file(argv[1], *ip, env_var("TCPREMOTEHOST"), env_var("TCPREMOTEINFO"));
  if (!m) {
    std::string why = m.error().text == "ENOENT" ? errno_text(ENOENT) : m.error().text;
    write_all(2, std::string("tcpcontrol: fatal: unable to read ") + argv[1] + ": " + why + "\n");
    return 111;
  }
  RuleAction action;
  if (*m) action = decode_rule((*m)->value);
  if (action.deny) return 100;

  std::vector<EnvChange> changes;
  for (auto& [k, v] : action.env) changes.emplace_back(k, v);
  std::vector<std::string> e = apply_env(current_env(), changes);
  std::vector<char*> envp, av;
  for (auto& s : e) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (int i = 2; i < argc; ++i) av.push_back(argv[i]);
  av.push_back(nullptr);
  signal(SIGPIPE, SIG_DFL);
  execvpe(av[0], av.data(), envp.data());
  write_all(2, std::string("tcpcontrol: fatal: unable to run ") + av[0] + ": " + errno_text(errno) + "\n");
  return 111;
}
