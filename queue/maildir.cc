// Maildir writer and reader (see maildir.h).
#include "queue/maildir.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "reactor/fd.h"

namespace queue {

namespace {

constexpr const char* kTempText = "Temporary error on maildir delivery. (#4.3.0)";

// Bumped for every name this process makes, so two deliveries in the same
// microsecond still differ.
unsigned long g_counter = 0;

std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// Writes `data` to `fd` unless an error already happened.
bool put(int fd, std::string_view data) { return reactor::write_all(fd, data); }

}  // namespace

std::string maildir_escape_host(std::string_view host) {
  std::string out;
  for (char c : host) {
    if (c == '/') out += "\\057";
    else if (c == ':') out += "\\072";
    else out += c;
  }
  return out;
}

std::string maildir_base_name(std::time_t sec, long usec, pid_t pid, unsigned long counter,
                              std::string_view host) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%lld.M%ldP%ldQ%lu.", static_cast<long long>(sec), usec,
                static_cast<long>(pid), counter);
  return buf + maildir_escape_host(host);
}

reactor::Result<std::string> maildir_deliver(const std::string& dir, std::string_view head, int msgfd) {
  // The directory is opened instead of chdir'ed into, so no child process is
  // needed; the errors are those qmail's chdir would give.
  reactor::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == ELOOP || errno == ENAMETOOLONG)
      return reactor::temp_error("Unable to chdir to maildir. (#4.2.1)");
    return reactor::temp_error(kTempText);
  }
  static const std::string host = hostname();
  // Create tmp/<base> exclusively; a clash (not expected) just takes the next counter.
  std::string base, tmp;
  reactor::UniqueFd fd;
  for (int tries = 0; tries < 5 && !fd.valid(); ++tries) {
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    base = maildir_base_name(tv.tv_sec, static_cast<long>(tv.tv_usec), ::getpid(), ++g_counter, host);
    tmp = "tmp/" + base;
    fd.reset(::openat(dfd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid() && errno != EEXIST) return reactor::temp_error(kTempText);
  }
  if (!fd.valid()) return reactor::temp_error(kTempText);
  auto fail = [&](const char* text) -> reactor::Result<std::string> {
    fd.reset();
    ::unlinkat(dfd.get(), tmp.c_str(), 0);
    return reactor::temp_error(text);
  };
  off_t size = static_cast<off_t>(head.size());
  if (!put(fd.get(), head)) return fail(kTempText);
  char buf[65536];
  for (;;) {
    ssize_t r = reactor::read_some(msgfd, buf, sizeof buf);
    if (r < 0) return fail("Unable to read message. (#4.3.0)");
    if (r == 0) break;
    if (!put(fd.get(), std::string_view(buf, static_cast<size_t>(r)))) return fail(kTempText);
    size += r;
  }
  if (::fsync(fd.get()) != 0) return fail(kTempText);
  if (::close(fd.release()) != 0) return fail(kTempText);  // NFS reports late errors here
  std::string name = base + ",S=" + std::to_string(static_cast<long long>(size));
  std::string fresh = "new/" + name;
  if (::linkat(dfd.get(), tmp.c_str(), dfd.get(), fresh.c_str(), 0) != 0) return fail(kTempText);
  ::unlinkat(dfd.get(), tmp.c_str(), 0);
  // Make the new/ entry itself durable before reporting success.
  reactor::UniqueFd nfd(::openat(dfd.get(), "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (nfd.valid()) ::fsync(nfd.get());
  return name;
}

reactor::Result<std::vector<MaildirEntry>> maildir_list(const std::string& dir) {
  std::vector<MaildirEntry> out;
  for (const char* sub : {"new", "cur"}) {
    std::string path = dir + "/" + sub;
    DIR* d = ::opendir(path.c_str());
    if (!d) return reactor::temp_error("unable to scan " + path + ": " + reactor::errno_text(errno));
    std::vector<MaildirEntry> part;
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
      part.push_back({sub, e->d_name, st.st_size, st.st_mtime});
    }
    ::closedir(d);
    std::sort(part.begin(), part.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace queue
