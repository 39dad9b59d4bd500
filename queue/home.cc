// Home directory and qmail accounts (see home.h).
#include "queue/home.h"

#include <cerrno>
#include <cstdlib>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/fd.h"

#ifndef QMAILHOME_DEFAULT
#define QMAILHOME_DEFAULT "/var/qmail"
#endif

namespace queue {

std::string compiled_home() { return QMAILHOME_DEFAULT; }

std::string qmail_home() {
  // Trust the environment only when no privilege was gained through setuid/setgid.
  if (::getuid() == ::geteuid() && ::getgid() == ::getegid()) {
    const char* h = std::getenv("QMAILHOME");
    if (h && *h == '/') return h;
  }
  return QMAILHOME_DEFAULT;
}

std::string home_path(const std::string& rel) { return qmail_home() + "/" + rel; }

reactor::Status chdir_home() {
  std::string h = qmail_home();
  if (::chdir(h.c_str()) != 0)
    return reactor::temp_error("unable to chdir to " + h + ": " + reactor::errno_text(errno));
  return {};
}

TreeMode decide_tree_mode(const std::string& home) {
  TreeMode m;
  struct stat h, q;
  if (::stat(home.c_str(), &h) != 0 || ::stat((home + "/queue").c_str(), &q) != 0) return m;
  // Only the tree's owner can have made it so: a non-root owner of both the
  // home and its queue. A tree that root (or an installer) owns is a system
  // tree whatever the uid of the process asking.
  if (h.st_uid == 0 || q.st_uid != h.st_uid) return m;
  m.single = true;
  m.uid = h.st_uid;
  m.gid = h.st_gid;
  if (const struct passwd* pw = ::getpwuid(h.st_uid)) m.gid = pw->pw_gid;
  return m;
}

const TreeMode& tree_mode() {
  // Decided once per process, from the home this process uses.
  static const TreeMode mode = decide_tree_mode(qmail_home());
  return mode;
}

bool single_user() { return tree_mode().single; }

const char* account_name(Account a) {
  switch (a) {
    case Account::alias: return "alias";
    case Account::qmaild: return "qmaild";
    case Account::qmaill: return "qmaill";
    case Account::qmailp: return "qmailp";
    case Account::qmailq: return "qmailq";
    case Account::qmailr: return "qmailr";
    case Account::qmails: return "qmails";
  }
  return "?";
}

std::optional<uid_t> passwd_uid(std::string_view passwd, std::string_view name) {
  while (!passwd.empty()) {
    size_t nl = passwd.find('\n');
    std::string_view line = passwd.substr(0, nl);
    passwd = nl == std::string_view::npos ? std::string_view() : passwd.substr(nl + 1);
    // name:password:uid:...
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos || line.substr(0, c1) != name) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    size_t c3 = line.find(':', c2 + 1);
    std::string_view num = line.substr(c2 + 1, c3 == std::string_view::npos ? std::string_view::npos : c3 - c2 - 1);
    if (num.empty() || num.size() > 10 || c3 == std::string_view::npos) continue;
    unsigned long long v = 0;
    bool ok = true;
    for (char ch : num) {
      if (ch < '0' || ch > '9') { ok = false; break; }
      v = v * 10 + static_cast<unsigned>(ch - '0');
    }
    if (!ok || v > 0xfffffffeULL) continue;
    return static_cast<uid_t>(v);
  }
  return std::nullopt;
}

std::optional<uid_t> installed_uid(Account a) {
  if (single_user()) return std::nullopt;
  static const std::string passwd = [] {
    auto t = reactor::read_file("/etc/passwd", 4u << 20);
    return t ? *t : std::string();
  }();
  if (auto u = passwd_uid(passwd, account_name(a))) return u;
  const struct passwd* pw = ::getpwnam(account_name(a));
  if (!pw) return std::nullopt;
  return pw->pw_uid;
}

const char* group_name(Group g) { return g == Group::qmail ? "qmail" : "nofiles"; }

reactor::Result<uid_t> account_uid(Account a) {
  if (single_user()) return tree_mode().uid;
  const struct passwd* pw = ::getpwnam(account_name(a));
  if (!pw) return reactor::temp_error(std::string("unknown account ") + account_name(a));
  return pw->pw_uid;
}

reactor::Result<gid_t> group_gid(Group g) {
  if (single_user()) return tree_mode().gid;
  const struct group* gr = ::getgrnam(group_name(g));
  if (!gr) return reactor::temp_error(std::string("unknown group ") + group_name(g));
  return gr->gr_gid;
}

reactor::Result<std::string> alias_home() {
  if (single_user()) return home_path("alias");
  const struct passwd* pw = ::getpwnam("alias");
  if (!pw) return reactor::temp_error("unknown account alias");
  return std::string(pw->pw_dir);
}

reactor::Status drop_to(uid_t uid, gid_t gid) {
  if (single_user()) {
    // Every account is the owner: root becomes the owner, the owner (or
    // anyone else, who could not switch anyway) stays as it is.
    if (::getuid() != 0) return {};
    uid = tree_mode().uid;
    gid = tree_mode().gid;
  }
  if (::getuid() == uid && ::geteuid() == uid && ::getgid() == gid && ::getegid() == gid) return {};
  if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
    return reactor::temp_error("unable to switch to uid " + std::to_string(uid) + ": " +
                               reactor::errno_text(errno));
  return {};
}

reactor::Status drop_to(Account a, Group g) {
  auto u = account_uid(a);
  if (!u) return u.error();
  auto gg = group_gid(g);
  if (!gg) return gg.error();
  return drop_to(*u, *gg);
}

}  // namespace queue
