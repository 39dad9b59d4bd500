// checkpassword helpers (see checkpw.h).
#include "pop3/checkpw.h"

#include <cerrno>
#include <crypt.h>
#include <cstdlib>
#include <cstring>
#include <grp.h>
#include <memory>
#include <pwd.h>
#include <shadow.h>
#include <unistd.h>

#include "reactor/fd.h"

namespace pop3 {

std::optional<CheckInput> parse_check_input(std::string_view b) {
  CheckInput in;
  std::string* fields[] = {&in.user, &in.pass, &in.timestamp};
  for (std::string* f : fields) {
    size_t z = b.find('\0');
    if (z == std::string_view::npos) return std::nullopt;
    f->assign(b.substr(0, z));
    b.remove_prefix(z + 1);
  }
  return in;
}

std::optional<CheckInput> read_check_input(int fd) {
  char buf[512];
  size_t len = 0;
  while (len < sizeof buf) {
    ssize_t r = reactor::read_some(fd, buf + len, sizeof buf - len);
    if (r < 0) return std::nullopt;
    if (r == 0) break;
    len += size_t(r);
  }
  ::close(fd);
  auto in = parse_check_input(std::string_view(buf, len));
  ::explicit_bzero(buf, sizeof buf);
  return in;
}

namespace {

// The setting a refusal hashes with: libcrypt's preferred method at its
// default cost, the same that make_hash (so qmail-newvpw) and passwd(1)
// write. Made once per process.
const char* refusal_setting() {
  static char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  static const bool made = ::crypt_gensalt_rn(nullptr, 0, nullptr, 0, setting, sizeof setting);
  return made ? setting : "$6$evqmailrefusal$";
}

}  // namespace

void spend_hash(const std::string& pass) {
  auto data = std::make_unique<struct crypt_data>();
  (void)::crypt_r(pass.c_str(), refusal_setting(), data.get());
  ::explicit_bzero(data.get(), sizeof *data);
}

std::string_view refusal_method() {
  std::string_view s = refusal_setting();
  size_t end = s.find('$', 1);
  return end == std::string_view::npos ? s : s.substr(0, end + 1);
}

bool verify_password(const std::string& pass, const std::string& hash) {
  if (hash.empty() || hash[0] == '*' || hash[0] == '!') {
    // A locked account costs what a wrong password costs.
    spend_hash(pass);
    return false;
  }
  auto data = std::make_unique<struct crypt_data>();
  const char* h = ::crypt_r(pass.c_str(), hash.c_str(), data.get());
  // libxcrypt returns a string starting with '*' on failure.
  if (!h || h[0] == '*') {
    ::explicit_bzero(data.get(), sizeof *data);
    spend_hash(pass);
    return false;
  }
  size_t n = std::strlen(h);
  unsigned char diff = n == hash.size() ? 0 : 1;
  // Compare without an early exit.
  for (size_t i = 0; i < n && i < hash.size(); ++i) diff |= (unsigned char)(h[i] ^ hash[i]);
  ::explicit_bzero(data.get(), sizeof *data);
  return diff == 0;
}

reactor::Result<std::string> make_hash(const std::string& pass) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // A null prefix asks libcrypt for its preferred method and fresh random bytes.
  if (!::crypt_gensalt_rn(nullptr, 0, nullptr, 0, salt, sizeof salt))
    return reactor::temp_error("unable to make a salt: " + reactor::errno_text(errno));
  auto data = std::make_unique<struct crypt_data>();
  const char* h = ::crypt_r(pass.c_str(), salt, data.get());
  if (!h || h[0] == '*') return reactor::temp_error("unable to hash the password");
  std::string out = h;
  ::explicit_bzero(data.get(), sizeof *data);
  return out;
}

int become_and_exec(const Identity& who, char** argv) {
  if (::setenv("USER", who.user.c_str(), 1) != 0 || ::setenv("HOME", who.home.c_str(), 1) != 0 ||
      ::setenv("SHELL", who.shell.c_str(), 1) != 0)
    return kExitTemporary;
  if (who.uid != ::geteuid() || who.uid != ::getuid()) {
    // Only root can switch; an unprivileged checkpassword serves its own uid only.
    if (::geteuid() != 0) return kExitTemporary;
    int g = who.supplementary ? ::initgroups(who.user.c_str(), who.gid)
                              : ::setgroups(1, &who.gid);
    if (g != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) return kExitTemporary;
  }
  // Only as the user: a home the user may not enter is not entered.
  if (::chdir(who.home.c_str()) != 0) return kExitTemporary;
  ::execvp(argv[0], argv);
  return kExitTemporary;
}

reactor::Result<Identity> check_system_user(const std::string& user, const std::string& pass) {
  errno = 0;
  const struct passwd* pw = ::getpwnam(user.c_str());
  if (!pw) {
    if (errno && errno != ENOENT && errno != ESRCH) return reactor::temp_error("passwd lookup failed");
    // An unknown name costs what a wrong password costs.
    spend_hash(pass);
    return reactor::perm_error("no such user");
  }
  // [WEAKNESS] qmail's checkpassword logs root in. A mail login never
  // needs root, and a checkpassword made setuid for qmail-smtpd's AUTH
  // would otherwise let the network guess root's password.
  if (pw->pw_uid == 0) {
    spend_hash(pass);
    return reactor::perm_error("root may not log in");
  }
  Identity who{pw->pw_name, pw->pw_dir, pw->pw_shell ? pw->pw_shell : "/bin/sh", pw->pw_uid,
               pw->pw_gid, true};
  std::string hash = pw->pw_passwd ? pw->pw_passwd : "";
  if (hash == "x" || hash == "*" || hash.empty()) {
    errno = 0;
    const struct spwd* sp = ::getspnam(user.c_str());
    if (!sp) {
      if (errno == EACCES) return reactor::temp_error("unable to read the shadow file");
      hash.clear();
    } else {
      hash = sp->sp_pwdp ? sp->sp_pwdp : "";
    }
  }
  // The reference implementation refuses empty passwords.
  if (pass.empty()) {
    spend_hash(pass);
    return reactor::perm_error("bad password");
  }
  if (!verify_password(pass, hash)) return reactor::perm_error("bad password");
  return who;
}

}  // namespace pop3
