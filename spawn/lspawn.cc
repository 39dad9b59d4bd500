// qmail-lspawn: local channel and delivery child (see lspawn.h).
#include "spawn/lspawn.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/home.h"
#include "reactor/child.h"
#include "spawn/getpw.h"

namespace spawn {

// ---- pure pieces ---------------------------------------------------------

std::string child_report(int wstat, std::string_view output) {
  if (!WIFEXITED(wstat)) return "Zqmail-local crashed.\n";
  std::string r;
  switch (WEXITSTATUS(wstat)) {
    // Codes of our own child (qlx.h) have fixed texts.
    case qlx::kCdb: return "ZTrouble reading users/cdb in qmail-lspawn.\n";
    case qlx::kNoMem: return "ZOut of memory in qmail-lspawn.\n";
    case qlx::kSys: return "ZTemporary failure in qmail-lspawn.\n";
    case qlx::kNoAlias: return "ZUnable to find alias user!\n";
    case qlx::kRoot: return "ZNot allowed to perform deliveries as root.\n";
    case qlx::kUsage: return "ZInternal qmail-lspawn bug.\n";
    case qlx::kNfs: return "ZNFS failure in qmail-local.\n";
    case qlx::kExecHard: return "DUnable to run qmail-local.\n";
    case qlx::kExecSoft: return "ZUnable to run qmail-local.\n";
    case qlx::kExecPw: return "ZUnable to run qmail-getpw.\n";
    // qmail-local's own codes [COMPAT]: replacements rely on this table.
    case 111: case 71: case 74: case 75: r = "Z"; break;
    case 0: r = "K"; break;
    default: r = "D"; break;
  }
  r.append(output.substr(0, output.find('\0')));
  return r;
}

std::vector<std::string> qmail_local_args(const UserEntry& u, std::string_view local, std::string_view domain,
                                          std::string_view sender, std::string_view defaultdelivery) {
  // [COMPAT] argument order of qmail-local, relied on by its replacements.
  return {"bin/qmail-local", "--", u.user, u.home, std::string(local), u.dash, u.ext,
          std::string(domain), std::string(sender), std::string(defaultdelivery)};
}

// ---- the delivery child --------------------------------------------------

Lookup find_user(const std::string& local) {
  Lookup out;
  auto r = lookup_users_cdb("users/cdb", local);
  if (!r) {
    out.qlx = qlx::kCdb;  // an unreadable users/cdb defers rather than guessing
    return out;
  }
  if (*r) {
    out.entry = std::move(**r);
    return out;
  }
  // No assignment: ask qmail-getpw, as qmailp, exactly like qmail does.
  int pi[2];
  if (::pipe2(pi, O_CLOEXEC) != 0) {
    out.qlx = qlx::kSys;
    return out;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pi[0]);
    ::close(pi[1]);
    out.qlx = qlx::kSys;
    return out;
  }
  if (pid == 0) {
    if (!queue::drop_to(queue::Account::qmailp, queue::Group::nofiles)) ::_exit(qlx::kUsage);
    if (::dup2(pi[1], 1) < 0) ::_exit(qlx::kSys);
    const char* argv[] = {"bin/qmail-getpw", local.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(qlx::kExecPw);
  }
  ::close(pi[1]);
  std::string text;
  bool read_ok = reactor::read_all(pi[0], text, 4096);
  ::close(pi[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      out.qlx = qlx::kSys;
      return out;
    }
  }
  if (!WIFEXITED(st)) {
    out.qlx = qlx::kSys;
    return out;
  }
  if (WEXITSTATUS(st) != 0) {
    out.qlx = WEXITSTATUS(st);
    return out;
  }
  auto e = read_ok ? parse_user_fields(text) : std::nullopt;
  if (!e) {
    out.qlx = qlx::kUsage;
    return out;
  }
  out.entry = std::move(*e);
  return out;
}

void run_delivery_child(const ChildJob& job) {
  // Undo what the spawner's loop installed; qmail-local sets up its own.
  reactor::reset_signals_for_exec();

  std::string local = job.recipient.substr(0, job.at);
  std::string domain = job.recipient.substr(job.at + 1);
  if (!queue::chdir_home()) ::_exit(qlx::kUsage);

  Lookup who = find_user(local);
  if (!who.entry) ::_exit(who.qlx ? who.qlx : qlx::kSys);
  const UserEntry& u = *who.entry;
  if (u.uid == 0) ::_exit(qlx::kRoot);

  if (::dup2(job.fd_mess, 0) < 0 || ::dup2(job.fd_out, 1) < 0 || ::dup2(1, 2) < 0) ::_exit(qlx::kSys);
  // setgid then setuid, no supplementary groups beyond gid (a no-op when the
  // whole tree runs as one unprivileged user).
  if (!queue::drop_to(static_cast<uid_t>(u.uid), static_cast<gid_t>(u.gid))) ::_exit(qlx::kUsage);
  if (::getuid() == 0) ::_exit(qlx::kRoot);

  auto args = qmail_local_args(u, local, domain, job.sender, job.defaultdelivery);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(errno_is_temporary(errno) ? qlx::kExecSoft : qlx::kExecHard);
}

// ---- the channel ---------------------------------------------------------

pid_t LocalChannel::launch(const Request& r, int fd_mess, int fd_out) {
  ChildJob job{fd_mess, fd_out, r.sender, r.recipient, r.recipient.rfind('@'), defaultdelivery_};
  pid_t pid = ::fork();
  if (pid == 0) run_delivery_child(job);
  return pid;
}

std::optional<std::string> LocalChannel::shortcut(const Request& r) {
  // Recipient "@domain": the trash address, delivered by doing nothing.
  if (r.recipient.rfind('@') == 0) return std::string("K");
  return std::nullopt;
}

}  // namespace spawn
