// Queueing and prefixing pipes (see inject_run.h).
#include "queue/inject_run.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "queue/qq.h"
#include "reactor/fd.h"

namespace queue {

reactor::Status submit(const Injection& inj) {
  QueueClient qq;
  if (auto st = qq.start(); !st) return reactor::temp_error("unable to run qmail-queue");
  qq.put(inj.message);
  qq.from(inj.sender);
  for (const std::string& r : inj.recipients) qq.to(r);
  return qq.finish();
}

reactor::Result<reactor::ExitStatus> run_with_prefix(const std::vector<std::string>& argv, std::string_view prefix,
                                                     int in_fd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return reactor::temp_error("unable to create pipe: " + reactor::errno_text(errno));
  reactor::UniqueFd rd(p[0]), wr(p[1]);
  reactor::ChildSpec spec;
  spec.argv = argv;
  spec.fds = {{0, rd.get()}};
  auto pid = reactor::spawn_child(spec);
  if (!pid) return pid.error();
  rd.reset();
  // A child that stops reading early is not our failure: its exit code tells.
  bool ok = reactor::write_all(wr.get(), prefix);
  char buf[65536];
  while (ok) {
    ssize_t r = reactor::read_some(in_fd, buf, sizeof buf);
    if (r <= 0) break;
    ok = reactor::write_all(wr.get(), std::string_view(buf, static_cast<size_t>(r)));
  }
  wr.reset();
  return reactor::wait_child(*pid);
}

}  // namespace queue
