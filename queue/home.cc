// Home directory and qmail accounts (see home.h).
#include "queue/home.h"

#include <cerrno>
#include <cstdlib>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "reactor/fd.h"

#ifndef QMAILHOME_DEFAULT
#define QMAILHOME_DEFAULT "/var/qmail"
#endif

namespace queue {

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

bool single_user() {
  // Unprivileged and no privilege gained: a setuid qmail-queue run by another
  // user is *not* single-user (its effective uid differs from the real one).
  return ::getuid() != 0 && ::getuid() == ::geteuid() && ::getgid() == ::getegid();
}

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

const char* group_name(Group g) { return g == Group::qmail ? "qmail" : "nofiles"; }

reactor::Result<uid_t> account_uid(Account a) {
  if (single_user()) return ::getuid();
  const struct passwd* pw = ::getpwnam(account_name(a));
  if (!pw) return reactor::temp_error(std::string("unknown account ") + account_name(a));
  return pw->pw_uid;
}

reactor::Result<gid_t> group_gid(Group g) {
  if (single_user()) return ::getgid();
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
  if (single_user()) return {};
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
