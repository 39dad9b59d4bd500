// Maildir scanning and cleaning for qmail-pop3d (see mailbox.h).
#include "pop3/mailbox.h"

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/maildir.h"

namespace pop3 {

int clean_tmp(const std::string& dir, std::time_t now) {
  std::string tmp = dir + "/tmp";
  DIR* d = ::opendir(tmp.c_str());
  if (!d) return 0;
  int removed = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    struct stat st;
    // qmail's maildir_clean looks at the access time, not the modification time.
    if (::fstatat(::dirfd(d), e->d_name, &st, 0) == 0 && now > st.st_atime + kTmpMaxAge) {
      if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
    }
  }
  ::closedir(d);
  return removed;
}

reactor::Result<std::vector<Message>> scan_maildir(const std::string& dir, std::time_t now) {
  auto list = queue::maildir_list(dir);
  if (!list) return list.error();
  std::vector<queue::MaildirEntry> keep;
  keep.reserve(list->size());
  for (auto& e : *list) {
    // Mail delivered in the current second waits for the next session, so the
    // order by mtime cannot be mixed up by later arrivals.
    if (e.mtime < now) keep.push_back(std::move(e));
  }
  // maildir_list gives new/ then cur/, each by name; stable order makes ties reproducible.
  std::stable_sort(keep.begin(), keep.end(),
                   [](const auto& a, const auto& b) { return a.mtime < b.mtime; });
  std::vector<Message> out;
  out.reserve(keep.size());
  for (auto& e : keep) out.push_back({e.sub + "/" + e.name, uint64_t(e.size), false});
  return out;
}

bool RealFileOps::unlink(const std::string& path) { return ::unlink(path.c_str()) == 0; }

bool RealFileOps::rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) == 0;
}

}  // namespace pop3
