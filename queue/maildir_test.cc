// Unit tests of the Maildir writer and reader (on a temporary directory).
#include "queue/maildir.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/fd.h"

using namespace queue;

namespace {

std::string make_maildir() {
  char tmpl[] = "/tmp/evq-maildir-XXXXXX";
  std::string base = ::mkdtemp(tmpl);
  for (const char* s : {"/tmp", "/new", "/cur"}) ::mkdir((base + s).c_str(), 0700);
  return base;
}

int message_fd(const std::string& dir, std::string_view text) {
  std::string p = dir + "/msg";
  REQUIRE(reactor::write_file_atomic(p, text, 0600).ok());
  return ::open(p.c_str(), O_RDONLY);
}

}  // namespace

TEST_CASE("maildir: names") {
  CHECK(maildir_escape_host("a/b:c.d") == "a\\057b\\072c.d");
  CHECK(maildir_base_name(1600000000, 12, 345, 6, "h:x") == "1600000000.M12P345Q6.h\\072x");
}

TEST_CASE("maildir: deliver writes head and message into new/, tmp/ left empty") {
  std::string d = make_maildir();
  reactor::UniqueFd m(message_fd(d, "Subject: hi\n\nbody\n"));
  ::lseek(m.get(), 0, SEEK_SET);
  auto r = maildir_deliver(d, "Return-Path: <a@b>\n", m.get());
  REQUIRE(r.ok());
  CHECK(r->find(",S=37") != std::string::npos);
  CHECK(r->find(':') == std::string::npos);
  auto text = reactor::read_file(d + "/new/" + *r);
  REQUIRE(text.ok());
  CHECK(*text == "Return-Path: <a@b>\nSubject: hi\n\nbody\n");
  auto l = maildir_list(d);
  REQUIRE(l.ok());
  REQUIRE(l->size() == 1);
  CHECK((*l)[0].sub == "new");
  CHECK((*l)[0].size == 37);
  // A second delivery in the same microsecond range gets a different name.
  ::lseek(m.get(), 0, SEEK_SET);
  auto r2 = maildir_deliver(d, "", m.get());
  REQUIRE(r2.ok());
  CHECK(*r2 != *r);
  ::rename((d + "/new/" + *r2).c_str(), (d + "/cur/" + *r2 + ":2,S").c_str());
  l = maildir_list(d);
  REQUIRE(l->size() == 2);
  CHECK((*l)[1].sub == "cur");
  CHECK((*l)[1].name == *r2 + ":2,S");
  CHECK(::rmdir((d + "/tmp").c_str()) == 0);  // empty
  (void)!std::system(("rm -rf " + d).c_str());
}

TEST_CASE("maildir: missing directory is a temporary chdir failure") {
  auto r = maildir_deliver("/nonexistent/evq/Maildir", "", 0);
  REQUIRE(!r.ok());
  CHECK(r.error().temporary);
  CHECK(r.error().text == "Unable to chdir to maildir. (#4.2.1)");
  std::string d = make_maildir();
  ::rmdir((d + "/tmp").c_str());
  reactor::UniqueFd m(message_fd(d, "x\n"));
  r = maildir_deliver(d, "", m.get());
  REQUIRE(!r.ok());
  CHECK(r.error().text == "Temporary error on maildir delivery. (#4.3.0)");
  (void)!std::system(("rm -rf " + d).c_str());
}
