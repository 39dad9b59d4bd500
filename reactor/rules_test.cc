// Unit tests of ucspi-tcp rules: tcprules syntax, cdb bytes, lookup order.
#include "reactor/rules.h"

#include <doctest/doctest.h>
#include <map>
#include <unistd.h>

#include "reactor/cdb.h"

using namespace reactor;
using namespace std::string_literals;

TEST_CASE("rules: allow, deny and variables encode as ucspi-tcp's tcprules") {
  auto r = parse_rules("127.0.0.1:allow,RELAYCLIENT=\"\",X=/a b/\n10.:deny\n:allow,Q=\"/x:y\"\n");
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].key == "127.0.0.1");
  CHECK((*r)[0].value == "+RELAYCLIENT=\0+X=a b\0"s);
  CHECK((*r)[1].key == "10.");
  CHECK((*r)[1].value == "D\0"s);
  CHECK((*r)[2].key == "");
  CHECK((*r)[2].value == "+Q=/x:y\0"s);
}

TEST_CASE("rules: comments, blank lines, lines without colon, trailing blanks") {
  auto r = parse_rules("# c\n\n   \nnocolon\n=host.example:allow \t\n1.2.3.4:deny,A=\"1\"");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].key == "=host.example");
  CHECK((*r)[0].value == "");
  CHECK((*r)[1].value == "D\0+A=1\0"s);
}

TEST_CASE("rules: fatal lines as in tcprules 0.88") {
  CHECK_FALSE(parse_rules("1.2.3.4:allow,\n"));           // trailing comma
  CHECK_FALSE(parse_rules("1.2.3.4:allow,A=1\n"));        // unterminated (the quote is '1')
  CHECK_FALSE(parse_rules("1.2.3.4:allow,A=\n"));         // no value
  CHECK_FALSE(parse_rules("1.2.3.4:allow\r\n"));          // CR LF
  CHECK_FALSE(parse_rules("1.2.3.4:permit\n"));
  CHECK_FALSE(parse_rules("1.2.3.4:allowx\n"));
  CHECK_FALSE(parse_rules("1.2.3.a-5:allow\n"));          // range with a non-number
  auto bad = parse_rules("ok:allow\n5.6.7.8:allow,\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().text == "5.6.7.8:allow,");
  CHECK_FALSE(bad.error().temporary);
  CHECK(parse_rules("1.2.3.4:allow,A=\"1\"\n"));
}

TEST_CASE("rules: a NUL in a name or value is refused, not encoded as more records") {
  // "+X=a\0D\0" would decode as X=a and a deny; "+X=\0+RELAYCLIENT=\0" as a relay grant.
  CHECK_FALSE(parse_rules("1.2.3.4:allow,X=\"a\0D\"\n"s));
  CHECK_FALSE(parse_rules("1.2.3.4:allow,X=\"\0+RELAYCLIENT=\"\n"s));
  CHECK_FALSE(parse_rules("1.2.3.4:allow,X\0D=\"1\"\n"s));
  CHECK_FALSE(parse_rules("1.2.3.4:deny\0\n"s));
  CHECK(parse_rules("1\0.2:allow\n"s));  // a key may hold any byte; no lookup matches it
}

TEST_CASE("rules: ranges in the last component expand into one key each") {
  auto r = parse_rules("1.2.3.40-42:deny\n1.2.250-300.:allow\n");
  REQUIRE(r);
  REQUIRE(r->size() == 3 + 6);
  CHECK((*r)[0].key == "1.2.3.40");
  CHECK((*r)[2].key == "1.2.3.42");
  CHECK((*r)[3].key == "1.2.250.");
  CHECK((*r)[8].key == "1.2.255.");
  // '=' or '@' in the address: no range expansion.
  auto h = parse_rules("=a-b.example:allow\n");
  REQUIRE(h);
  CHECK((*h)[0].key == "=a-b.example");
}

TEST_CASE("rules: IPv6 addresses find their separating colon and are stored compact") {
  auto r = parse_rules("::1:allow,V6=\"yes\"\n0:0:0:0:0:0:0:1:deny\n2001:db8::allow\n2001:db8:::deny\n");
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].key == "::1");
  CHECK((*r)[0].value == "+V6=yes\0"s);
  CHECK((*r)[1].key == "::1");
  CHECK((*r)[2].key == "2001:db8:");  // a prefix, kept as written
  CHECK((*r)[3].key == "2001:db8::");
  // Not IPv6 text before the colon: fatal, as in ucspi-tcp 0.88.
  CHECK_FALSE(parse_rules("host:x:allow\n"));
}

TEST_CASE("rules: decode as tcpserver and describe as tcprulescheck") {
  auto a = decode_rule("+A=1\0D\0+B=x=y\0+NOEQ\0?junk\0+TAIL=z"s);
  CHECK(a.deny);
  REQUIRE(a.env.size() == 2);
  CHECK(a.env[0] == std::pair<std::string, std::string>{"A", "1"});
  CHECK(a.env[1] == std::pair<std::string, std::string>{"B", "x=y"});
  CHECK(describe_rule("1.2.3.", "+A=1\0+B=\0"s) ==
        "rule 1.2.3.:\nset environment variable A=1\nset environment variable B=\nallow connection\n");
  CHECK(describe_rule("", "D\0+A=1\0"s) == "rule :\ndeny connection\n");
}

TEST_CASE("rules: keys in the order of ucspi-tcp's rules.c") {
  std::vector<std::string> want = {"joe@1.2.3.4", "joe@=mx.a.example", "1.2.3.4", "=mx.a.example",
                                   "1.2.3.", "1.2.", "1.", "=.a.example", "=.example", "=", ""};
  CHECK(rule_keys("1.2.3.4", "mx.a.example"s, "joe"s) == want);
  CHECK(rule_keys("1.2.3.4", std::nullopt, std::nullopt) ==
        std::vector<std::string>{"1.2.3.4", "1.2.3.", "1.2.", "1.", ""});
  CHECK(rule_keys("2001:db8::1", std::nullopt, std::nullopt) ==
        std::vector<std::string>{"2001:db8::1", "2001:db8::", "2001:db8:", "2001:", ""});
}

TEST_CASE("rules: the first existing key wins, no rule means none") {
  std::map<std::string, std::string> t = {{"1.2.", "D\0"s}, {"=.example", "+H=1\0"s}, {"", "+DEF=1\0"s}};
  RuleFinder f = [&](std::string_view k) -> std::optional<std::string> {
    auto it = t.find(std::string(k));
    if (it == t.end()) return std::nullopt;
    return it->second;
  };
  auto m = match_rules(f, "1.2.3.4", "a.example"s, std::nullopt);
  REQUIRE(m);
  CHECK(m->key == "1.2.");  // IP prefixes come before host suffixes
  m = match_rules(f, "9.9.9.9", "a.example"s, std::nullopt);
  REQUIRE(m);
  CHECK(m->key == "=.example");
  m = match_rules(f, "9.9.9.9", std::nullopt, std::nullopt);
  REQUIRE(m);
  CHECK(m->key == "");
  t.erase("");
  CHECK_FALSE(match_rules(f, "9.9.9.9", std::nullopt, std::nullopt));
}

TEST_CASE("rules: compile to a cdb through the temporary name, read back") {
  char tmpl[] = "/tmp/evq-rules-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl, cdb = dir + "/tcp.cdb", tmp = dir + "/tcp.tmp";
  REQUIRE(compile_rules("127.:allow,RELAYCLIENT=\"\"\n:deny\n", cdb, tmp));
  CHECK(access(tmp.c_str(), F_OK) != 0);
  auto m = match_rules_file(cdb, "127.0.0.1", std::nullopt, std::nullopt);
  REQUIRE(m);
  REQUIRE(*m);
  CHECK((*m)->key == "127.");
  CHECK((*m)->value == "+RELAYCLIENT=\0"s);
  auto bad = compile_rules("127.:allow,\n", dir + "/bad.cdb", dir + "/bad.tmp");
  REQUIRE_FALSE(bad);
  CHECK_FALSE(bad.error().temporary);
  CHECK(access((dir + "/bad.cdb").c_str(), F_OK) != 0);
  auto missing = match_rules_file(dir + "/none.cdb", "1.2.3.4", std::nullopt, std::nullopt);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().text == "ENOENT");
  unlink(cdb.c_str());
  rmdir(dir.c_str());
}
