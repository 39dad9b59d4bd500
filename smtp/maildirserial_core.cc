#include "smtp/maildirserial_core.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/rfc822.h"
#include "reactor/control.h"
#include "reactor/fd.h"
#include "smtp/serial_message.h"

namespace smtp {

namespace {

reactor::Status scan_dir(const std::string& sub, std::time_t now, std::vector<MaildirFile>& out) {
  DIR* d = ::opendir(sub.c_str());
  if (!d) return reactor::temp_error("unable to scan $MAILDIR/" + sub + ": " + reactor::errno_text(errno));
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string name = sub + "/" + e->d_name;
    struct stat st;
    if (::stat(name.c_str(), &st) != 0) continue;  // vanished meanwhile
    if (st.st_mtime >= now) continue;              // may still be in this second's batch
    out.push_back({std::move(name), st.st_mtime});
  }
  ::closedir(d);
  return {};
}

}  // namespace

reactor::Result<std::vector<MaildirFile>> scan_maildir(std::time_t now) {
  std::vector<MaildirFile> files;
  for (const char* sub : {"new", "cur"})
    if (auto s = scan_dir(sub, now, files); !s) return s.error();
  std::sort(files.begin(), files.end(), [](const MaildirFile& a, const MaildirFile& b) {
    return a.mtime != b.mtime ? a.mtime < b.mtime : a.name < b.name;
  });
  return files;
}

void clean_maildir_tmp(std::time_t now) {
  DIR* d = ::opendir("tmp");
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string name = std::string("tmp/") + e->d_name;
    struct stat st;
    if (::stat(name.c_str(), &st) == 0 && now > st.st_atime + 129600) ::unlink(name.c_str());
  }
  ::closedir(d);
}

std::optional<ClientReport> ReportParser::next() {
  size_t z = buf_.find('\0');
  if (z == std::string::npos || z + 1 >= buf_.size()) return std::nullopt;
  size_t nl = buf_.find('\n', z + 2);
  if (nl == std::string::npos) return std::nullopt;
  ClientReport r;
  r.fn = buf_.substr(0, z);
  r.status = buf_[z + 1];
  r.text = buf_.substr(z + 2, nl - z - 2);
  buf_.erase(0, nl + 1);
  return r;
}

Decision decide(char status, bool bounce, std::optional<unsigned long> lifetime,
                std::optional<std::time_t> mtime, std::time_t now) {
  if (status == 'K') return {FileAction::kRemove};
  Decision d{FileAction::kKeepTemporary};
  bool permanent = status == 'D';
  if (!permanent && lifetime && mtime && now > *mtime + static_cast<std::time_t>(*lifetime)) {
    permanent = true;
    d.timed_out = true;
  }
  if (permanent) d.action = bounce ? FileAction::kBounce : FileAction::kKeepFailed;
  return d;
}

reactor::Result<BounceControls> load_bounce_controls(const std::string& home) {
  auto get = [&](const char* name) { return reactor::control_line(home + "/control/" + name); };
  BounceControls c;
  auto me = get("me");
  if (!me) return me.error();
  std::string mev = me->value_or("me");
  auto bf = get("bouncefrom");
  auto bh = get("bouncehost");
  auto dbh = get("doublebouncehost");
  auto dbt = get("doublebounceto");
  for (auto* r : {&bf, &bh, &dbh, &dbt})
    if (!*r) return r->error();
  c.bouncefrom = bf->value_or("MAILER-DAEMON");
  c.bouncehost = bh->value_or(mev);
  c.doublebounceto = dbt->value_or("postmaster") + "@" + dbh->value_or(mev);
  return c;
}

std::optional<Bounce> make_bounce(std::string_view file, std::string_view prefix, std::string_view why,
                                  bool timed_out, const BounceControls& c, std::string_view date) {
  auto env = parse_serial_envelope(file);
  if (!env || env->sender.find('\0') != std::string::npos) return std::nullopt;
  Bounce b;
  if (env->sender == "#@[]") {
    b.triple = true;
    return b;
  }
  const bool single = !env->sender.empty();
  b.sender = single ? "" : "#@[]";
  b.recipient = single ? env->sender : c.doublebounceto;
  std::string rcpt = strip_prefix(env->recipient, prefix).value_or(env->recipient);
  std::string& m = b.message;
  m += "Date: ";
  m.append(date);
  m += "\nFrom: " + queue::rfc822::quote(c.bouncefrom) + "@" + c.bouncehost;
  m += "\nTo: " + queue::rfc822::quote2(b.recipient);
  m += "\nSubject: failure notice\n\nHi. This is the maildirserial program at " + c.bouncehost;
  m += single ? ".\nI'm afraid I wasn't able to deliver your message to the following address.\n"
                "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
              : ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n";
  m += "<" + rcpt + ">:\n";
  m.append(why);
  if (timed_out) m += "This message is too old. Giving up.\n";
  m += "\n";
  m += single ? "--- Below this line is a copy of the message.\n\n"
              : "--- Below this line is the original bounce.\n\n";
  m += "Return-Path: <" + queue::rfc822::quote2(env->sender) + ">\n";
  m.append(file.substr(env->header_bytes));
  return b;
}

std::vector<std::string> wrapper_argv(bool qmtp, const std::vector<std::string>& a,
                                      const std::string& bindir, const std::string& tcpclient,
                                      const std::string& port) {
  std::vector<std::string> v = {bindir + "/maildirserial", "-b", "-t", "1209600", "--", a[0], a[1],
                                tcpclient, "-RHl0", "--", a[2], port};
  if (qmtp) {
    v.insert(v.end(), {bindir + "/serialqmtp", a[1]});
  } else {
    v.insert(v.end(), {bindir + "/serialsmtp", a[1], a[3]});
  }
  return v;
}

}  // namespace smtp
