// Unit tests of .qmail parsing and the file-finding rules.
#include "spawn/dot_qmail.h"

#include <doctest/doctest.h>

using namespace spawn;

namespace {

std::string kinds(const std::vector<Instruction>& v) {
  std::string s;
  for (const auto& i : v) s += std::string(to_string(i.kind)) + ":" + i.arg + ";";
  return s;
}

std::string names(const std::vector<Candidate>& v) {
  std::string s;
  for (const auto& c : v) s += c.name + (c.default_at ? "@" + std::to_string(*c.default_at) : "") + " ";
  return s;
}

}  // namespace

TEST_CASE("dot_qmail: line types") {
  auto v = parse_dot_qmail("# note\n|preline procmail\n./Maildir/\n/var/mail/joe\n&joe@x.org\n"
                           "bob@y.org\n+anything\n.mbox\n",
                           false);
  CHECK(kinds(v) ==
        "comment:# note;program:preline procmail;maildir:./Maildir/;mbox:/var/mail/joe;"
        "forward:joe@x.org;forward:bob@y.org;comment:+anything;mbox:.mbox;");
}

TEST_CASE("dot_qmail: trailing blanks, blank lines, missing final newline") {
  auto v = parse_dot_qmail("./Maildir/ \t\n\n   \n&a@b  ", false);
  CHECK(kinds(v) == "maildir:./Maildir/;forward:a@b;");
  // Leading blanks are kept: a line of " x" is an address " x".
  CHECK(kinds(parse_dot_qmail("#\n x\n", false)) == "comment:#;forward: x;");
  // Trailing blanks are cut before deciding maildir vs mbox.
  CHECK(kinds(parse_dot_qmail("./Mail/  \n", false)) == "maildir:./Mail/;");
}

TEST_CASE("dot_qmail: blank first line fails") {
  auto v = parse_dot_qmail("\n./Maildir/\n", false);
  REQUIRE(v.size() == 1);
  CHECK(v[0].kind == LineKind::fail);
  CHECK(v[0].arg == "Uh-oh: first line of .qmail file is blank. (#4.2.1)");
  CHECK(parse_dot_qmail(" \t\n", false)[0].kind == LineKind::fail);
  CHECK(parse_dot_qmail("", false).empty());
}

TEST_CASE("dot_qmail: forward-only mode and the +list quirk") {
  auto v = parse_dot_qmail("a@b\n./Maildir/\n", true);
  CHECK(kinds(v) == "forward:a@b;fail:Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0);");
  v = parse_dot_qmail("|prog\n", true);
  CHECK(kinds(v) == "fail:Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0);");
  // +list takes effect from the next line on; earlier lines stand.
  v = parse_dot_qmail("|first\n+list\n&x@y\n./Maildir/\n|never\n", false);
  CHECK(kinds(v) == "program:first;comment:+list;forward:x@y;"
                    "fail:Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0);");
  CHECK(kinds(parse_dot_qmail("+list2\n|ok\n", false)) == "comment:+list2;program:ok;");
}

TEST_CASE("dot_qmail: defaultdelivery with several lines") {
  auto v = parse_dot_qmail("|dot-forward .forward\n./Maildir/", false);
  CHECK(kinds(v) == "program:dot-forward .forward;maildir:./Maildir/;");
}

TEST_CASE("dot_qmail: & strips one ampersand, NUL ends a line") {
  CHECK(kinds(parse_dot_qmail("&&x\n&\n", false)) == "forward:&x;forward:;");
  CHECK(kinds(parse_dot_qmail(std::string_view("a@b\0junk\n", 9), false)) == "forward:a@b;");
}

TEST_CASE("dot_qmail: safeext folds case and dots") {
  CHECK(safe_ext("P.D.Q.Bach") == "p:d:q:bach");
  CHECK(safe_ext("") == "");
  CHECK(safe_ext("A-B.c") == "a-b:c");
}

TEST_CASE("dot_qmail: candidates") {
  CHECK(names(qmail_candidates("-", "a-b-c")) ==
        ".qmail-a-b-c .qmail-a-b-default@4 .qmail-a-default@2 .qmail-default@0 ");
  CHECK(names(qmail_candidates("-", "a-b-")) ==
        ".qmail-a-b- .qmail-a-b-default@4 .qmail-a-default@2 .qmail-default@0 ");
  CHECK(names(qmail_candidates("-", "a")) == ".qmail-a .qmail-default@0 ");
  CHECK(names(qmail_candidates("-", "")) == ".qmail- .qmail-default@0 ");
  // [QUIRK] empty dash and ext also probe ".qmaildefault".
  CHECK(names(qmail_candidates("", "")) == ".qmail .qmaildefault@0 ");
  CHECK(names(qmail_candidates("-", "P.D.Q.Bach")) == ".qmail-p:d:q:bach .qmail-default@0 ");
  // An exact name ending in "default" sets DEFAULT too.
  CHECK(names(qmail_candidates("-", "x-default")) ==
        ".qmail-x-default@2 .qmail-x-default@2 .qmail-default@0 ");
  CHECK(names(qmail_candidates("-", "Movie-Bob")) ==
        ".qmail-movie-bob .qmail-movie-default@6 .qmail-default@0 ");
}

TEST_CASE("dot_qmail: owner names use the full safe extension") {
  CHECK(qmail_owner_name("-", "SOS", "-owner") == ".qmail-sos-owner");
  CHECK(qmail_owner_name("", "", "-owner-default") == ".qmail-owner-default");
}
