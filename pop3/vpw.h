#pragma once
// Virtual POP users for ISPs (the "10,000 POP boxes owned by one system user"
// layout of the seed guide, as vchkpw/vqpop do it): QMAILHOME/users/vpasswd
// (text) compiled by qmail-newvpw into users/vpasswd.cdb, read by checkvpw.

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "reactor/result.h"

namespace pop3 {

/// One virtual mailbox.
struct VpwEntry {
  std::string hash;  ///< crypt(3) hash
  uid_t uid = 0;
  gid_t gid = 0;
  std::string dir;   ///< the box's directory: HOME and cwd of the POP server
};

/// The cdb key of a login name: ASCII lower case, "user%domain" read as "user@domain".
std::string vpw_key(std::string_view login);

/// Parses the text file: lines "user@domain:hash:uid:gid:dir", blank lines and
/// '#' comments skipped. Permanent error "line N: ..." on the first bad line.
reactor::Result<std::vector<std::pair<std::string, VpwEntry>>> parse_vpasswd(std::string_view text);

/// The cdb value of an entry ("hash\0uid\0gid\0dir").
std::string encode_vpw(const VpwEntry& e);
/// Decodes a cdb value; nullopt if it is damaged.
std::optional<VpwEntry> decode_vpw(std::string_view v);

/// Compiles `text_path` into `cdb_path` atomically (temporary file + rename).
reactor::Status build_vpasswd(const std::string& text_path, const std::string& cdb_path);

/// Looks up a login name; nullopt if unknown. Error if the cdb cannot be read.
reactor::Result<std::optional<VpwEntry>> lookup_vpw(const std::string& cdb_path,
                                                     std::string_view login);

}  // namespace pop3
