// qmail-getpw's rules (see getpw.h).
#include "spawn/getpw.h"

#include <cerrno>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/home.h"
#include "reactor/control.h"

namespace spawn {

namespace {

constexpr size_t kUserLen = 32;  // qmail-getpw's GETPW_USERLEN: names must be shorter

}  // namespace

reactor::Result<std::optional<PwEntry>> SystemPasswd::find(const std::string& name) {
  errno = 0;
  const struct passwd* pw = ::getpwnam(name.c_str());
  // getpwnam cannot tell "no such user" from trouble; qmail trusts only ETXTBSY.
  if (!pw && errno == ETXTBSY) return reactor::temp_error("getpwnam failed");
  if (!pw) return std::optional<PwEntry>();
  return std::optional<PwEntry>(PwEntry{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir});
}

int SystemPasswd::stat_owner(const std::string& dir, uid_t& owner) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return errno;
  owner = st.st_uid;
  return 0;
}

GetpwContext current_getpw_context() {
  GetpwContext c;
  c.single_user = queue::single_user();
  c.my_uid = ::getuid();
  c.my_gid = ::getgid();
  if (c.single_user) {
    // Every delivery of a single-user tree runs as its owner.
    c.my_uid = queue::tree_mode().uid;
    c.my_gid = queue::tree_mode().gid;
    auto h = queue::alias_home();
    if (h) c.alias_home = *h;
  }
  c.brk = queue::kConfBreak;
  return c;
}

bool errno_is_temporary(int e) {
  switch (e) {
    case EINTR: case ENOMEM: case ETXTBSY: case EIO: case ETIMEDOUT: case EAGAIN:
    case EDEADLK: case EBUSY: case ENFILE: case EMFILE: case EFBIG: case ENOSPC:
    case ENETDOWN: case ENETUNREACH: case ENETRESET: case ECONNABORTED: case ECONNRESET:
    case ENOBUFS: case ECONNREFUSED: case EHOSTDOWN: case EHOSTUNREACH: case EUSERS:
    case EDQUOT: case ESTALE: case ENOLCK: case EREMOTEIO:
      return true;
    default:
      return false;
  }
}

GetpwResult getpw(std::string_view local, PasswdDb& db, const GetpwContext& ctx) {
  GetpwResult out;
  // Whole local part first, then every prefix ending just before a break
  // character, longest first.
  for (size_t end = local.size() + 1; end-- > 0;) {
    if (end >= kUserLen) continue;
    if (end != local.size() && local[end] != ctx.brk) continue;
    std::string name = reactor::lowercase(local.substr(0, end));
    // In a single-user tree the alias account is our pseudo-account, found by
    // name like the real one (so `alias-uucp-joe` is alias with ext `uucp-joe`).
    reactor::Result<std::optional<PwEntry>> pw = std::optional<PwEntry>();
    if (ctx.single_user && name == queue::account_name(queue::Account::alias) && !ctx.alias_home.empty())
      pw = std::optional<PwEntry>(PwEntry{name, ctx.my_uid, ctx.my_gid, ctx.alias_home});
    else
      pw = db.find(name);
    if (!pw) {
      out.failure = GetpwFailure::sys;
      return out;
    }
    if (!*pw) continue;
    const PwEntry& p = **pw;
    if (p.uid == 0) continue;
    // A single-user tree can only deliver as ourselves.
    if (ctx.single_user && p.uid != ctx.my_uid) continue;
    uid_t owner = 0;
    int err = db.stat_owner(p.dir, owner);
    if (err != 0) {
      // A home that should be there but cannot be checked now (NFS) defers.
      if (errno_is_temporary(err)) {
        out.failure = GetpwFailure::nfs;
        return out;
      }
      continue;
    }
    if (owner != p.uid) continue;
    UserEntry e{p.name, p.uid, p.gid, p.dir, "", ""};
    if (end != local.size()) {
      e.dash = "-";
      e.ext.assign(local.substr(end + 1));
    }
    out.entry = std::move(e);
    return out;
  }

  // The catch-all account takes everything else, the whole local part as ext.
  if (ctx.single_user) {
    if (ctx.alias_home.empty()) {
      out.failure = GetpwFailure::noalias;
      return out;
    }
    out.entry = UserEntry{"alias", ctx.my_uid, ctx.my_gid, ctx.alias_home, "-", std::string(local)};
    return out;
  }
  auto alias = db.find(queue::account_name(queue::Account::alias));
  if (!alias) {
    out.failure = GetpwFailure::sys;
    return out;
  }
  if (!*alias) {
    out.failure = GetpwFailure::noalias;
    return out;
  }
  const PwEntry& a = **alias;
  out.entry = UserEntry{a.name, a.uid, a.gid, a.dir, "-", std::string(local)};
  return out;
}

int getpw_exit_code(GetpwFailure f) {
  switch (f) {
    case GetpwFailure::noalias: return qlx::kNoAlias;
    case GetpwFailure::nfs: return qlx::kNfs;
    case GetpwFailure::sys: return qlx::kSys;
  }
  return qlx::kSys;
}

std::string format_getpw(const UserEntry& e) {
  std::string s;
  for (const std::string& f : {e.user, std::to_string(e.uid), std::to_string(e.gid), e.home, e.dash, e.ext}) {
    s += f;
    s += '\0';
  }
  return s;
}

}  // namespace spawn
