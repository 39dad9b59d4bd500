// ThreadSyncer (see syncer.h).
#include "queue/syncer.h"

#include <cerrno>
#include <unistd.h>

namespace queue {

void ThreadSyncer::sync(std::vector<int> fds, std::function<void(bool)> done) {
  pool_.run(0, [fds = std::move(fds)] { return sync_now(fds) ? 1 : 0; },
            [done = std::move(done)](int ok) { done(ok != 0); });
}

bool ThreadSyncer::sync_now(const std::vector<int>& fds) {
  if (fds.empty()) return true;
  if (::syncfs(fds[0]) == 0) return true;
  if (errno != ENOSYS && errno != EINVAL) return false;
  for (int fd : fds)
    if (::fsync(fd) != 0) return false;
  return true;
}

}  // namespace queue
