#pragma once
// The qmail-users mechanism (qmail-users(5), qmail-newu(8)): parsing
// users/assign, compiling it into users/cdb, and qmail-lspawn's lookup of a
// local part in that cdb (local-delivery.md 2.1 and 2.2).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace spawn {

/// Who controls an address: the six fields of an assignment or of qmail-getpw.
struct UserEntry {
  std::string user;
  unsigned long uid = 0;
  unsigned long gid = 0;
  std::string home;
  std::string dash;
  std::string ext;
};

/// One users/cdb record as qmail-newu writes it.
struct UsersRecord {
  std::string key;    ///< "!" + lower(local) + "\0" (simple) or "!" + lower(loc) (wildcard)
  std::string value;  ///< user\0uid\0gid\0home\0dash\0ext, no trailing NUL
};

/// A parsed users/assign: records in file order plus the key-"" wildcard set.
struct UsersAssign {
  std::vector<UsersRecord> records;
  std::string wildchars;  ///< last character of every non-empty wildcard prefix, no repeats
};

/// Parses the text of users/assign. Permanent Error "bad format in users/assign" on bad input.
reactor::Result<UsersAssign> parse_assign(std::string_view text);
/// Writes `a` as a cdb to `path` through `path + ".tmp"` (fsync + rename).
reactor::Status write_users_cdb(const UsersAssign& a, const std::string& path);

/// Splits `user\0uid\0gid\0home\0dash\0ext[\0]` into its fields; nullopt if malformed.
std::optional<UserEntry> parse_user_fields(std::string_view v);

/// Probes a cdb: value of the first record under a key, nullopt if none, Error on read trouble.
using UsersProbe = std::function<reactor::Result<std::optional<std::string>>(std::string_view key)>;

/// qmail-lspawn's users/cdb lookup of `local` through `probe`: simple keys beat
/// wildcards, longer prefixes beat shorter ones; nullopt if nothing matches.
reactor::Result<std::optional<UserEntry>> lookup_users(const UsersProbe& probe, std::string_view local);

/// lookup_users over the cdb file `path`. Missing file: nullopt. Unreadable: temporary Error.
reactor::Result<std::optional<UserEntry>> lookup_users_cdb(const std::string& path, std::string_view local);

}  // namespace spawn
