// qmail-showctl's report (see showctl.h).
#include "queue/showctl.h"

#include <algorithm>
#include <dirent.h>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/home.h"
#include "reactor/control.h"

namespace queue {

BuildInfo current_build_info() {
  BuildInfo b;
  b.home = qmail_home();
  b.conf_break = kConfBreak;
  b.conf_patrn = kConfPatrn;
  b.conf_spawn = kConfSpawn;
  b.conf_split = kConfSplit;
  auto num = [](auto r) { return r ? std::to_string(*r) : std::string("unknown"); };
  const Account accounts[] = {Account::alias, Account::qmaild, Account::qmaill, Account::qmailp,
                              Account::qmailq, Account::qmailr, Account::qmails};
  b.users.push_back({"alias", num(account_uid(Account::alias))});
  for (Account a : accounts) {
    if (a == Account::alias) continue;
    b.users.push_back({account_name(a), num(account_uid(a))});
  }
  // qmail's "owner" id (auto_uido) is root, or the owner of a single-user tree.
  b.users.insert(b.users.begin() + 4, {"root", std::to_string(single_user() ? tree_mode().uid : 0)});
  b.groups.push_back({group_name(Group::nofiles), num(group_gid(Group::nofiles))});
  b.groups.push_back({group_name(Group::qmail), num(group_gid(Group::qmail))});
  return b;
}

std::string show_build(const BuildInfo& b) {
  std::string s;
  s += "qmail home directory: " + b.home + ".\n";
  s += std::string("user-ext delimiter: ") + b.conf_break + ".\n";
  s += "paternalism (in decimal): " + std::to_string(b.conf_patrn) + ".\n";
  s += "silent concurrency limit: " + std::to_string(b.conf_spawn) + ".\n";
  s += "subdirectory split: " + std::to_string(b.conf_split) + ".\n";
  auto ids = [](const auto& v) {
    std::string t;
    for (size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + v[i].first + " " + v[i].second;
    return t;
  };
  s += "user ids: " + ids(b.users) + ".\n";
  s += "group ids: " + ids(b.groups) + ".\n";
  return s;
}

namespace {

// Human text never carries raw control bytes to the terminal.
std::string safe(std::string_view v) {
  std::string o;
  for (char c : v) {
    unsigned char u = static_cast<unsigned char>(c);
    o += (u < 32 || u > 126) ? '?' : c;
  }
  return o;
}

class Reporter {
 public:
  Reporter(const std::string& dir, ControlReport& r) : dir_(dir), r_(r) {}

  std::string path(const std::string& fn) const { return dir_ + "/" + fn; }
  void warn(const std::string& text) { r_.warnings.push_back("warning: " + text); }
  void trouble(const std::string& fn, const reactor::Error& e) {
    r_.text += "Oops! Trouble reading this file.\n";
    warn("unable to read control/" + fn + ": " + e.text);
  }
  void head(const std::string& fn) { r_.text += "\n" + fn + ": "; }

  // A single-line file; `def` is the default, or me's value when flagme and me exists.
  void str(const std::string& fn, bool flagme, const std::string& def, const std::string& pre) {
    head(fn);
    auto v = reactor::control_line(path(fn));
    if (!v) return trouble(fn, v.error());
    std::string value;
    if (!*v) {
      r_.text += "(Default.) ";
      value = flagme && me_ ? *me_ : def;
    } else {
      value = **v;
    }
    r_.text += pre + safe(value) + ".\n";
  }

  // A number; returns the effective value.
  unsigned long num(const std::string& fn, unsigned long def, const std::string& pre,
                    const std::string& post) {
    head(fn);
    auto v = reactor::control_number(path(fn));
    if (!v) {
      trouble(fn, v.error());
      return def;
    }
    if (!*v) {
      r_.text += "(Default.) " + pre + std::to_string(def) + post + ".\n";
      return def;
    }
    r_.text += pre + std::to_string(**v) + post + ".\n";
    return **v;
  }

  // A list file; returns its entries (nullopt when missing or unreadable).
  std::optional<std::vector<std::string>> lst(const std::string& fn, const std::string& def,
                                              const std::string& pre, const std::string& post) {
    head(fn);
    auto v = reactor::control_list(path(fn));
    if (!v) {
      trouble(fn, v.error());
      unreadable_.insert(fn);
      return std::nullopt;
    }
    if (!*v) {
      r_.text += "(Default.) " + def + "\n";
      return std::nullopt;
    }
    r_.text += "\n";
    for (const auto& e : **v) r_.text += pre + safe(e) + post + "\n";
    return **v;
  }

  std::optional<std::string> me_;
  std::set<std::string> unreadable_;

 private:
  const std::string& dir_;
  ControlReport& r_;
};

// Every name this report explains; anything else in control/ is called out.
const char* const kKnown[] = {
    "badmailfrom", "bouncefrom", "bouncehost", "concurrencylocal", "concurrencyremote",
    "databytes", "defaultdelivery", "defaultdomain", "defaulthost", "doublebouncehost",
    "doublebounceto", "envnoathost", "helohost", "idhost", "localiphost", "locals", "me",
    "morercpthosts", "morercpthosts.cdb", "percenthack", "plusdomain", "qmqpservers",
    "queueextra", "queuelifetime", "rcpthosts", "smtpgreeting", "smtproutes",
    "timeoutconnect", "timeoutremote", "timeoutsmtpd", "virtualdomains"};

std::set<std::string> lowered(const std::optional<std::vector<std::string>>& v) {
  std::set<std::string> s;
  if (v)
    for (const auto& e : *v) s.insert(reactor::lowercase(e));
  return s;
}

}  // namespace

ControlReport show_controls(const std::string& dir) {
  ControlReport r;
  Reporter p(dir, r);
  auto me = reactor::control_line(p.path("me"));
  if (!me) {
    r.text += "Oops! Trouble reading control/me.\n";
    p.warn("unable to read control/me: " + me.error().text);
  } else if (*me) {
    p.me_ = **me;
    r.text += "me: My name is " + safe(**me) + ".\n";
  } else {
    r.text += "me: (Default.) My name is undefined! Uh-oh.\n";
    p.warn("control/me is missing: qmail-send and qmail-smtpd need a host name");
  }

  p.lst("badmailfrom", "Any MAIL FROM is allowed.", "", " not accepted in MAIL FROM.");
  p.str("bouncefrom", false, "MAILER-DAEMON", "Bounce user name is ");
  p.str("bouncehost", true, "bouncehost", "Bounce host name is ");
  unsigned long cl = p.num("concurrencylocal", 10, "Local concurrency is ", "");
  unsigned long cr = p.num("concurrencyremote", 20, "Remote concurrency is ", "");
  p.num("databytes", 0, "SMTP DATA limit is ", " bytes (0: no limit)");
  p.str("defaultdelivery", false, "not set; the rc script supplies the default delivery",
        "Default delivery (read by the rc script, not by qmail) is ");
  p.str("defaultdomain", true, "defaultdomain", "Default domain name is ");
  p.str("defaulthost", true, "defaulthost", "Default host name is ");
  p.str("doublebouncehost", true, "doublebouncehost", "2B recipient host: ");
  p.str("doublebounceto", false, "postmaster", "2B recipient user: ");
  p.str("envnoathost", true, "envnoathost", "Presumed domain name is ");
  p.str("helohost", true, "helohost", "SMTP client HELO host name is ");
  p.str("idhost", true, "idhost", "Message-ID host name is ");
  p.str("localiphost", true, "localiphost", "Local IP address becomes ");
  p.lst("locals", "Messages for me are delivered locally.", "Messages for ", " are delivered locally.");
  p.str("me", false, "undefined! Uh-oh", "My name is ");
  auto percent = p.lst("percenthack", "The percent hack is not allowed.",
                       "The percent hack is allowed for user%host@", ".");
  p.str("plusdomain", true, "plusdomain", "Plus domain name is ");
  p.lst("qmqpservers", "No QMQP servers.", "QMQP server: ", ".");
  p.lst("queueextra", "No extra recipients (QUEUE_EXTRA is empty).",
        "qmail-queue adds the recipient ", " to every message.");
  p.num("queuelifetime", 604800, "Message lifetime in the queue is ", " seconds");

  auto rcpt = p.lst("rcpthosts", "SMTP clients may send messages to any recipient.",
                    "SMTP clients may send messages to recipients at ", ".");
  if (rcpt)
    p.lst("morercpthosts", "No effect.", "SMTP clients may send messages to recipients at ", ".");
  else
    p.lst("morercpthosts", "No rcpthosts; morercpthosts is irrelevant.",
          "No rcpthosts; doesn't matter that morercpthosts has ", ".");
  r.text += "\nmorercpthosts.cdb: ";
  struct stat st_txt, st_cdb;
  bool has_txt = stat(p.path("morercpthosts").c_str(), &st_txt) == 0;
  bool has_cdb = stat(p.path("morercpthosts.cdb").c_str(), &st_cdb) == 0;
  if (!has_txt && !has_cdb) r.text += "(Default.) No effect.\n";
  else if (!has_txt) r.text += "Oops! morercpthosts.cdb exists but morercpthosts doesn't.\n";
  else if (!has_cdb) {
    r.text += "Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n";
    p.warn("control/morercpthosts.cdb is missing: run qmail-newmrh");
  } else if (st_txt.st_mtime > st_cdb.st_mtime) {
    r.text += "Oops! morercpthosts.cdb is older than morercpthosts.\n";
    p.warn("control/morercpthosts.cdb is out of date: run qmail-newmrh");
  } else {
    r.text += "Modified recently enough; hopefully up to date.\n";
  }

  p.str("smtpgreeting", true, "smtpgreeting", "SMTP greeting: 220 ");
  p.lst("smtproutes", "No artificial SMTP routes.", "SMTP route: ", "");
  p.num("timeoutconnect", 60, "SMTP client connection timeout is ", " seconds");
  p.num("timeoutremote", 1200, "SMTP client data timeout is ", " seconds");
  p.num("timeoutsmtpd", 1200, "SMTP server data timeout is ", " seconds");
  p.lst("virtualdomains", "No virtual domains.", "Virtual domain: ", "");

  // Files nobody here knows about: typos, or add-ons' files.
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) names.emplace_back(e->d_name);
    closedir(d);
  } else {
    p.warn("unable to list control/");
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    if (n == "." || n == "..") continue;
    if (std::find(std::begin(kKnown), std::end(kKnown), n) != std::end(kKnown)) continue;
    r.text += "\n" + safe(n) + ": I have no idea what this file does.\n";
  }

  // Dangerous combinations (evqmail's additions to qmail-showctl).
  if (!rcpt && !p.unreadable_.count("rcpthosts"))
    p.warn("control/rcpthosts is missing: qmail-smtpd accepts mail for any domain (open relay)");
  std::set<std::string> rset = lowered(rcpt);
  for (const auto& d : lowered(percent))
    if (rset.count(d))
      p.warn("percenthack domain " + safe(d) +
             " is also in rcpthosts: user%host@" + safe(d) + " lets SMTP clients relay");
  if (cr > static_cast<unsigned long>(kConfSpawn))
    p.warn("concurrencyremote " + std::to_string(cr) + " is above conf-spawn " +
           std::to_string(kConfSpawn) + "; only " + std::to_string(kConfSpawn) + " are used");
  if (cl > static_cast<unsigned long>(kConfSpawn))
    p.warn("concurrencylocal " + std::to_string(cl) + " is above conf-spawn " +
           std::to_string(kConfSpawn) + "; only " + std::to_string(kConfSpawn) + " are used");

  if (!r.warnings.empty()) {
    r.text += "\n";
    for (const auto& w : r.warnings) r.text += w + "\n";
  }
  return r;
}

}  // namespace queue
