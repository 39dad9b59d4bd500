#pragma once
// The qmail home directory and qmail's fixed set of accounts (alias, qmaild,
// qmaill, qmailp, qmailq, qmailr, qmails; groups qmail and nofiles), as
// conf-users / conf-groups and auto_uids.c do, but looked up at run time.
//
// Home: QMAILHOME_DEFAULT is fixed at build time; the environment variable
// QMAILHOME overrides it only in a process that gained no privilege (real ids
// equal effective ids), so a setuid qmail-queue can never be pointed elsewhere.
//
// Single-user mode is a property of the tree, decided once per process from
// the home directory itself (doc/qmail-home.7): a tree whose home and queue/
// are owned by one user other than root is a private tree of that user, and
// every qmail account and group is that user. Any other tree is a system
// tree: accounts are looked up by name and privileges are really dropped,
// whoever runs the program. Only the owner of a directory can make it a
// single-user tree, and a setuid program never takes its home from the
// environment, so no caller can talk a privileged program into the mode.

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "reactor/result.h"

namespace queue {

/// The home directory this process must use.
std::string qmail_home();
/// `qmail_home() + "/" + rel`.
std::string home_path(const std::string& rel);
/// chdir to the home directory; Error (temporary) on failure.
reactor::Status chdir_home();

/// The home compiled into this program (QMAILHOME_DEFAULT of the build).
std::string compiled_home();

/// How a tree is run: by qmail's accounts, or by its one owner.
struct TreeMode {
  bool single = false;  ///< a single-user (private) tree
  uid_t uid = 0;        ///< its owner (single-user only)
  gid_t gid = 0;        ///< the owner's group (single-user only)
};
/// The mode of the tree at `home` (what tree_mode() decides; for tests).
TreeMode decide_tree_mode(const std::string& home);
/// The mode of this process's tree, decided on first use and then fixed.
const TreeMode& tree_mode();
/// True in a single-user tree: all qmail ids are the tree owner's.
bool single_user();

/// The accounts of qmail's design.
enum class Account { alias, qmaild, qmaill, qmailp, qmailq, qmailr, qmails };
/// The groups of qmail's design.
enum class Group { qmail, nofiles };

/// Account name as installed (e.g. "qmailq").
const char* account_name(Account a);
/// The uid of `name` in the text of a passwd(5) file, if a well-formed line
/// lists it (the first such line, as the files service answers).
std::optional<uid_t> passwd_uid(std::string_view passwd, std::string_view name);
/// The uid of an account for qmail-queue's Received line, or nullopt in a
/// single-user tree (every caller is then "invoked by uid N") or when the
/// account is not installed. qmail compiles these uids in; we read
/// /etc/passwd once and ask the name service only for an account it does
/// not list (an NSS lookup costs more than queueing a small message).
std::optional<uid_t> installed_uid(Account a);
const char* group_name(Group g);
/// uid of an account (the tree owner's in single-user mode). Error if unknown.
reactor::Result<uid_t> account_uid(Account a);
/// gid of a group (the tree owner's group in single-user mode).
reactor::Result<gid_t> group_gid(Group g);
/// Home directory of the alias account (QMAILHOME/alias in single-user mode).
reactor::Result<std::string> alias_home();

/// Drops to uid/gid (setgroups to just gid, setgid, setuid); nothing to do when
/// the process has exactly those ids already. In a single-user tree root drops
/// to the owner whatever ids are asked for, and anyone else stays as it is.
reactor::Status drop_to(uid_t uid, gid_t gid);
/// Drops to a qmail account with the given group.
reactor::Status drop_to(Account a, Group g);

// Build-time constants of qmail's conf-* files.
constexpr int kConfSplit = 23;      ///< conf-split: queue subdirectories.
constexpr int kConfSpawn = 120;     ///< conf-spawn: deliveries per spawner (<= 255).
constexpr mode_t kConfPatrn = 002;  ///< conf-patrn: unsafe mode bits on homes and .qmail files.
constexpr char kConfBreak = '-';    ///< conf-break: the extension separator.

}  // namespace queue
