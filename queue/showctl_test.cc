// Unit tests of qmail-showctl's report.
#include "queue/showctl.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/fd.h"

using namespace queue;

namespace {
struct ControlDir {
  std::string dir;
  ControlDir() {
    char tmpl[] = "/tmp/showctl-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~ControlDir() { std::system(("rm -rf '" + dir + "'").c_str()); }
  void put(const std::string& name, const std::string& text) {
    REQUIRE(reactor::write_file_atomic(dir + "/" + name, text).ok());
  }
  bool has(const ControlReport& r, const std::string& s) { return r.text.find(s) != std::string::npos; }
};
}  // namespace

TEST_CASE("showctl build block names the settings") {
  BuildInfo b;
  b.home = "/var/qmail";
  b.users = {{"alias", "7790"}, {"qmaild", "7791"}};
  b.groups = {{"nofiles", "2108"}, {"qmail", "2107"}};
  std::string s = show_build(b);
  CHECK(s.find("qmail home directory: /var/qmail.\n") == 0);
  CHECK(s.find("user-ext delimiter: -.\n") != std::string::npos);
  CHECK(s.find("paternalism (in decimal): 2.\n") != std::string::npos);
  CHECK(s.find("silent concurrency limit: 120.\n") != std::string::npos);
  CHECK(s.find("subdirectory split: 23.\n") != std::string::npos);
  CHECK(s.find("user ids: alias 7790, qmaild 7791.\n") != std::string::npos);
  CHECK(s.find("group ids: nofiles 2108, qmail 2107.\n") != std::string::npos);
}

TEST_CASE("showctl explains defaults and values") {
  ControlDir c;
  c.put("me", "mail.example.com\n");
  c.put("locals", "mail.example.com\nlocalhost\n");
  c.put("rcpthosts", "example.com\n");
  c.put("concurrencyremote", "40\n");
  c.put("queueextra", "log@example.com\n");
  c.put("smtproutes", ":relay.example.net\n");
  ControlReport r = show_controls(c.dir);
  CHECK(r.text.find("me: My name is mail.example.com.\n") == 0);
  CHECK(c.has(r, "\nlocals: \nMessages for mail.example.com are delivered locally.\n"
                 "Messages for localhost are delivered locally.\n"));
  CHECK(c.has(r, "\nbouncehost: (Default.) Bounce host name is mail.example.com.\n"));
  CHECK(c.has(r, "\nbouncefrom: (Default.) Bounce user name is MAILER-DAEMON.\n"));
  CHECK(c.has(r, "\nconcurrencylocal: (Default.) Local concurrency is 10.\n"));
  CHECK(c.has(r, "\nconcurrencyremote: Remote concurrency is 40.\n"));
  CHECK(c.has(r, "\nqueuelifetime: (Default.) Message lifetime in the queue is 604800 seconds.\n"));
  CHECK(c.has(r, "\nqueueextra: \nqmail-queue adds the recipient log@example.com to every message.\n"));
  CHECK(c.has(r, "\nsmtproutes: \nSMTP route: :relay.example.net\n"));
  CHECK(c.has(r, "\nmorercpthosts: (Default.) No effect.\n"));
  CHECK(c.has(r, "\nvirtualdomains: (Default.) No virtual domains.\n"));
  CHECK(r.warnings.empty());
}

TEST_CASE("showctl warns about dangerous settings and unknown files") {
  ControlDir c;
  c.put("me", "mx.example.com\n");
  c.put("percenthack", "Example.com\n");
  c.put("rcpthosts", "example.com\n");
  c.put("concurrencyremote", "300\n");
  c.put("rcpthostz", "typo.example\n");
  ControlReport r = show_controls(c.dir);
  CHECK(c.has(r, "\nrcpthostz: I have no idea what this file does.\n"));
  bool percent = false, spawn = false;
  for (auto& w : r.warnings) {
    if (w.find("percenthack domain example.com") != std::string::npos) percent = true;
    if (w.find("concurrencyremote 300 is above conf-spawn 120") != std::string::npos) spawn = true;
  }
  CHECK(percent);
  CHECK(spawn);

  ControlDir open;
  open.put("me", "mx.example.com\n");
  r = show_controls(open.dir);
  CHECK(c.has(r, "\nrcpthosts: (Default.) SMTP clients may send messages to any recipient.\n"));
  CHECK(c.has(r, "\nmorercpthosts: (Default.) No rcpthosts; morercpthosts is irrelevant.\n"));
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("open relay") != std::string::npos);
  CHECK(c.has(r, "\nwarning: control/rcpthosts is missing"));
}

TEST_CASE("showctl reports an unreadable file") {
  if (geteuid() == 0) return;  // root reads everything
  ControlDir c;
  c.put("me", "mx.example.com\n");
  c.put("rcpthosts", "example.com\n");
  c.put("locals", "example.com\n");
  chmod((c.dir + "/locals").c_str(), 0);
  ControlReport r = show_controls(c.dir);
  CHECK(c.has(r, "\nlocals: Oops! Trouble reading this file.\n"));
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("unable to read control/locals") != std::string::npos);
}
