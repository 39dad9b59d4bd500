#pragma once
// The checkpassword interface (D. J. Bernstein's checkpassword, used by
// qmail-popup): the fd-3 block, password verification through libcrypt,
// and "become the user and exec the next program".

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "reactor/result.h"

namespace pop3 {

/// checkpassword's exit codes.
constexpr int kExitRejected = 1;   ///< wrong name or password
constexpr int kExitMisuse = 2;     ///< bad invocation or input
constexpr int kExitTemporary = 111;

/// The three fields of the fd-3 block.
struct CheckInput {
  std::string user, pass, timestamp;
};

/// Splits "user\0pass\0timestamp\0..." ; nullopt if a field is unterminated.
std::optional<CheckInput> parse_check_input(std::string_view block);

/// Reads at most 512 bytes from `fd` (to end of file) and parses them; the
/// raw bytes are wiped. nullopt on a read error or malformed block.
std::optional<CheckInput> read_check_input(int fd);

/// True if `pass` hashes to `hash` (crypt_r; yescrypt, sha512-crypt, ...).
/// Empty or locked hashes ("", "*...", "!...") never match, and cost a
/// hash all the same (spend_hash).
bool verify_password(const std::string& pass, const std::string& hash);

/// Hashes `pass` once with libcrypt's preferred method at its default
/// cost and forgets the result: what a refusal spends, so that an unknown
/// name or a locked account takes as long as a wrong password.
void spend_hash(const std::string& pass);

/// The method prefix spend_hash uses ("$y$" for yescrypt), for tests.
std::string_view refusal_method();

/// A new hash of `pass` with libcrypt's preferred method (yescrypt on Debian).
reactor::Result<std::string> make_hash(const std::string& pass);

/// Who to become after a successful login.
struct Identity {
  std::string user, home, shell;
  uid_t uid = 0;
  gid_t gid = 0;
  bool supplementary = true;  ///< initgroups(user) (system users) or just gid (virtual)
};

/// Sets USER, HOME, SHELL, switches ids, then (as the user) chdirs to home
/// and execs argv.
/// When the target uid is our own (single-user trees, tests) no switch is
/// attempted. Returns only on failure, with the exit code to use.
int become_and_exec(const Identity& who, char** argv);

/// A system account by name and password (passwd, shadow). Error permanent:
/// rejected (exit 1); temporary: lookup failed (exit 111).
reactor::Result<Identity> check_system_user(const std::string& user, const std::string& pass);

}  // namespace pop3
