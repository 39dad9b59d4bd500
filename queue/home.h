#pragma once
// The qmail home directory and qmail's fixed set of accounts (alias, qmaild,
// qmaill, qmailp, qmailq, qmailr, qmails; groups qmail and nofiles), as
// conf-users / conf-groups and auto_uids.c do, but looked up at run time.
//
// Home: QMAILHOME_DEFAULT is fixed at build time; the environment variable
// QMAILHOME overrides it only in a process that gained no privilege (real ids
// equal effective ids), so a setuid qmail-queue can never be pointed elsewhere.
//
// Single-user mode: a process that is not root cannot switch users, so every
// qmail account is "this user" and no setuid/setgid is attempted. This is how
// tests and `make run` operate on private trees.

#include <string>
#include <sys/types.h>

#include "reactor/result.h"

namespace queue {

/// The home directory this process must use.
std::string qmail_home();
/// `qmail_home() + "/" + rel`.
std::string home_path(const std::string& rel);
/// chdir to the home directory; Error (temporary) on failure.
reactor::Status chdir_home();

/// True when running unprivileged: all qmail ids collapse to our own.
bool single_user();

/// The accounts of qmail's design.
enum class Account { alias, qmaild, qmaill, qmailp, qmailq, qmailr, qmails };
/// The groups of qmail's design.
enum class Group { qmail, nofiles };

/// Account name as installed (e.g. "qmailq").
const char* account_name(Account a);
const char* group_name(Group g);
/// uid of an account (our own uid in single-user mode). Error if unknown.
reactor::Result<uid_t> account_uid(Account a);
/// gid of a group (our own gid in single-user mode).
reactor::Result<gid_t> group_gid(Group g);
/// Home directory of the alias account (QMAILHOME/alias in single-user mode).
reactor::Result<std::string> alias_home();

/// Drops to uid/gid (setgroups to just gid, setgid, setuid). No-op in single-user mode.
reactor::Status drop_to(uid_t uid, gid_t gid);
/// Drops to a qmail account with the given group.
reactor::Status drop_to(Account a, Group g);

// Build-time constants of qmail's conf-* files.
constexpr int kConfSplit = 23;      ///< conf-split: queue subdirectories.
constexpr int kConfSpawn = 120;     ///< conf-spawn: deliveries per spawner (<= 255).
constexpr mode_t kConfPatrn = 002;  ///< conf-patrn: unsafe mode bits on homes and .qmail files.
constexpr char kConfBreak = '-';    ///< conf-break: the extension separator.

}  // namespace queue
