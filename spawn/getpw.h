#pragma once
// qmail-getpw(8)'s default rules for who controls a local part (local-delivery.md
// 2.3) over a small passwd interface, so tests can feed a fake account list.
//
// Single-user trees (queue::single_user()): only accounts whose uid is the
// tree owner's can be candidates, and the catch-all is a pseudo-account
// "alias" with the owner's uid/gid whose home is queue::alias_home() (QMAILHOME/alias), since the
// real alias account cannot be switched to. That pseudo-account also answers
// to the name "alias" like the real one (`alias-x` is alias with ext `x`).

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "reactor/result.h"
#include "spawn/users.h"

namespace spawn {

/// One passwd account as getpwnam returns it.
struct PwEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string dir;
};

/// Account and home-directory lookups (the system's, or a fake in tests).
class PasswdDb {
 public:
  virtual ~PasswdDb() = default;
  /// getpwnam(name): nullopt if unknown; temporary Error if the lookup itself failed.
  virtual reactor::Result<std::optional<PwEntry>> find(const std::string& name) = 0;
  /// stat(dir): 0 and the owner, or the errno of the failure.
  virtual int stat_owner(const std::string& dir, uid_t& owner) = 0;
};

/// getpwnam(3) and stat(2).
class SystemPasswd : public PasswdDb {
 public:
  reactor::Result<std::optional<PwEntry>> find(const std::string& name) override;
  int stat_owner(const std::string& dir, uid_t& owner) override;
};

/// How qmail-getpw failed; each kind has its own exit code and lspawn text.
enum class GetpwFailure { noalias, nfs, sys };

/// Environment of the rules: single-user mode and the tree owner's ids.
struct GetpwContext {
  bool single_user = false;
  uid_t my_uid = 0;
  gid_t my_gid = 0;
  std::string alias_home;  ///< home of the catch-all in single-user mode
  char brk = '-';          ///< conf-break
};

/// The context of this process (queue::tree_mode(), alias_home()).
GetpwContext current_getpw_context();

/// Result of the rules: the six fields, or why not.
struct GetpwResult {
  std::optional<UserEntry> entry;
  GetpwFailure failure = GetpwFailure::sys;
};

/// Applies qmail-getpw's rules to `local`.
GetpwResult getpw(std::string_view local, PasswdDb& db, const GetpwContext& ctx);

/// qmail-getpw's output: `user\0uid\0gid\0homedir\0dash\0ext\0`.
std::string format_getpw(const UserEntry& e);

/// Exit codes of qmail-getpw and of qmail-lspawn's delivery child (qmail's qlx.h).
namespace qlx {
constexpr int kUsage = 112;     ///< internal bug / bad arguments
constexpr int kRoot = 113;      ///< refused to deliver as root
constexpr int kNfs = 115;       ///< home directory cannot be checked now
constexpr int kNoAlias = 116;   ///< no alias account
constexpr int kCdb = 117;       ///< users/cdb unreadable
constexpr int kSys = 118;       ///< temporary system failure
constexpr int kNoMem = 119;     ///< out of memory
constexpr int kExecSoft = 120;  ///< exec of qmail-local failed, temporarily
constexpr int kExecPw = 121;    ///< exec of qmail-getpw failed
constexpr int kExecHard = 126;  ///< exec of qmail-local failed, permanently
}  // namespace qlx

/// The exit code of qmail-getpw for a failure kind.
int getpw_exit_code(GetpwFailure f);

/// True for errno values qmail's error_temp() calls temporary.
bool errno_is_temporary(int e);

}  // namespace spawn
