// qmail-rspawn's channel (see rspawn.h).
#include "spawn/rspawn.h"

#include <cerrno>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "reactor/child.h"
#include "spawn/getpw.h"

namespace spawn {

std::string rspawn_report(int wstat, std::string_view s) {
  if (!WIFEXITED(wstat)) return "Zqmail-remote crashed.\n";
  switch (WEXITSTATUS(wstat)) {
    case 0: break;
    case 111: return "ZUnable to run qmail-remote.\n";
    default: return "DUnable to run qmail-remote.\n";
  }
  if (s.empty()) return "Zqmail-remote produced no output.\n";

  // The message result: the first report starting K, Z or D (none: permanent).
  int result = -1;
  size_t j = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] != '\0') continue;
    if (s[j] == 'K') { result = 1; break; }
    if (s[j] == 'Z') { result = 0; break; }
    if (s[j] == 'D') break;
    j = k + 1;
  }
  // The first report (this delivery's one recipient) may override it.
  int orr = result;
  if (s[0] == 's') orr = 0;
  if (s[0] == 'h') orr = -1;

  std::string out(1, orr == 1 ? 'K' : orr == 0 ? 'Z' : 'D');
  auto cstr = [&](size_t from) {
    size_t end = s.find('\0', from);
    return s.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
  };
  // Text of the first report; then, if the message result is not better than
  // the recipient's, the text of the report right after it.
  size_t nul = s.find('\0', 1);
  if (nul == std::string_view::npos) return out;  // qmail prints nothing without a NUL
  out.append(cstr(1));
  size_t k = nul + 1;
  if (result <= orr && k < s.size() && (s[k] == 'Z' || s[k] == 'D' || s[k] == 'K')) out.append(cstr(k + 1));
  return out;
}

SlotPlan plan_slots(unsigned long fd_limit, bool wide_ok, unsigned wanted) {
  SlotPlan p;
  // Each running delivery holds its output pipe, and briefly the message
  // file and the pipe's write end while forking: count two.
  unsigned fit = slots_for_fds(fd_limit, 2);
  unsigned cap = wide_ok ? std::max(wanted, 1000u) : 255u;
  p.slots = std::min(fit, cap);
  p.fd_limited = fit < wanted;
  p.wide = wide_ok && p.slots > 255;
  return p;
}

pid_t RemoteChannel::launch(const queue::proto::Request& r, int fd_mess, int fd_out) {
  // qmail-remote's host argument is the text after the recipient's last '@'.
  size_t at = r.recipient.rfind('@');
  std::string domain = r.recipient.substr(at + 1);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Undo what the spawner's loop installed.
  reactor::reset_signals_for_exec();
  if (::dup2(fd_mess, 0) < 0 || ::dup2(fd_out, 1) < 0 || ::dup2(1, 2) < 0) ::_exit(111);
  const char* argv[] = {program_.c_str(), domain.c_str(), r.sender.c_str(), r.recipient.c_str(), nullptr};
  ::execvp(argv[0], const_cast<char* const*>(argv));
  ::_exit(errno_is_temporary(errno) ? 111 : 100);
}

}  // namespace spawn
