// Shared pieces of preline, forward, condredirect, bouncesaying, except (see tools_common.h).
#include "spawn/tools_common.h"

#include <cerrno>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/qq.h"
#include "reactor/fd.h"
#include "spawn/getpw.h"

namespace spawn {

reactor::Result<ProgramStatus> run_program(char* const* argv) {
  pid_t pid = ::fork();
  if (pid < 0) return reactor::temp_error("unable to fork: " + reactor::errno_text(errno));
  if (pid == 0) {
    ::execvp(argv[0], argv);
    ::_exit(errno_is_temporary(errno) ? 111 : 100);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return reactor::temp_error("wait failed");
  ProgramStatus s;
  if (WIFEXITED(st)) s.code = WEXITSTATUS(st);
  else s.crashed = true;
  return s;
}

int except_exit(const ProgramStatus& s) {
  if (s.crashed || s.code == 111) return 111;
  return s.code == 0 ? 100 : 0;
}

std::optional<int> filter_exit(const ProgramStatus& s) {
  if (s.crashed || s.code == 111) return 111;
  if (s.code == 0) return std::nullopt;
  return 0;
}

std::string preline_header(bool ufline, bool rpline, bool dtline, std::string_view uf, std::string_view rp,
                           std::string_view dt) {
  std::string h;
  if (ufline) h.append(uf);
  if (rpline) h.append(rp);
  if (dtline) h.append(dt);
  return h;
}

reactor::Result<pid_t> forward_message(int fd, std::string_view dtline, std::string_view sender,
                                       const std::vector<std::string>& recipients) {
  queue::QueueClient qq;
  if (auto s = qq.start(); !s) return s.error();
  pid_t qp = qq.pid();
  qq.put(dtline);
  qq.put_fd(fd);
  qq.from(sender);
  for (const auto& r : recipients) qq.to(r);
  if (auto s = qq.finish(); !s) return s.error();
  return qp;
}

void die(int code, std::string_view text) {
  std::string line(text);
  line += '\n';
  reactor::write_all(2, line);
  ::_exit(code);
}

}  // namespace spawn
