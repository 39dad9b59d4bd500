// Unit tests of RFC 822 tokens and address rewriting (rfc822.h).
#include "queue/rfc822.h"

#include <doctest/doctest.h>

using namespace queue::rfc822;

namespace {

// Rewrites one field with completion and returns the new text and the addresses seen.
std::string rewrite(const std::string& field, std::vector<std::string>* seen = nullptr,
                    const char* host = "af.mil", const char* dom = "af.mil", const char* plus = "berkeley.edu") {
  auto c = Completion::make(host, dom, plus);
  REQUIRE(c);
  auto toks = parse(field);
  REQUIRE(toks);
  auto out = rewrite_addrlist(*toks, [&](Tokens& a) {
    c->complete(a);
    if (seen) seen->push_back(unquote(a));
  });
  if (!out) return "FAIL";
  return unparse(*out);
}

}  // namespace

TEST_CASE("rfc822: tokenizing") {
  auto t = parse("To: \"Joe Q\" <joe@[1.2.3.4]> (a (nested) c)");
  REQUIRE(t);
  REQUIRE(t->size() == 9);
  CHECK((*t)[2] == Token{Tok::quote, "Joe Q"});
  CHECK((*t)[6] == Token{Tok::literal, "1.2.3.4"});
  CHECK((*t)[8] == Token{Tok::comment, "a nested c"});
  CHECK_FALSE(parse("To: (open"));
  CHECK_FALSE(parse("To: \"open"));
  CHECK_FALSE(parse("To: )a"));
  CHECK_FALSE(parse("To: ]a"));
  // Non-ASCII atoms are written back quoted.
  auto u = parse("From: J\xc3\xb6rg <j@x>");
  REQUIRE(u);
  CHECK((*u)[2].type == Tok::quote);
  CHECK(unparse(*u) == "From: \"J\xc3\xb6rg\" <j@x>\n");
}

TEST_CASE("rfc822: unparse spacing and folding") {
  CHECK(unparse(*parse("To:a@b,c@d")) == "To: a@b, c@d\n");
  CHECK(unparse(*parse("From: x@y (Joe \\\"Q\\\")")) == "From: x@y (Joe \\\"Q\\\")\n");
  std::string longlist = "To: ";
  for (int i = 0; i < 12; ++i) longlist += (i ? ", " : "") + std::string("user") + std::to_string(i) + "@example.com";
  std::string out = unparse(*parse(longlist));
  // A line is closed when it would pass 80 characters counting the pending "\n ".
  CHECK(out ==
        "To: user0@example.com, user1@example.com, user2@example.com,\n"
        "  user3@example.com, user4@example.com, user5@example.com, user6@example.com,\n"
        "  user7@example.com, user8@example.com, user9@example.com, user10@example.com,\n"
        "  user11@example.com\n");
}

TEST_CASE("rfc822: address list rewriting") {
  std::vector<std::string> seen;
  CHECK(rewrite("To: djb fred", &seen) == "To: djb@af.mil, fred@af.mil\n");
  // Right-to-left walk: addresses of one field are seen in reverse order.
  CHECK(seen == std::vector<std::string>{"fred@af.mil", "djb@af.mil"});
  CHECK(rewrite("To: Joe Bloggs <joe>") == "To: Joe Bloggs <joe@af.mil>\n");
  CHECK(rewrite("Cc: friends: a, b@x.y;, c") == "Cc: friends: a@af.mil, b@x.y;, c@af.mil\n");
  CHECK(rewrite("To: <@route1,@route2:user@host.dom>") == "To: <user@host.dom>\n");
  CHECK(rewrite("To: eric@mammoth.cs+") == "To: eric@mammoth.cs.berkeley.edu\n");
  CHECK(rewrite("To: eric@mammoth+") == "To: eric@mammoth.berkeley.edu\n");
  CHECK(rewrite("To: joe@pobox") == "To: joe@pobox.af.mil\n");
  CHECK(rewrite("To: joe@[1.2.3.4]") == "To: joe@[1.2.3.4]\n");
  CHECK(rewrite("To: joe@x.y.") == "To: joe@x.y\n");
  CHECK(rewrite("To: joe@") == "To: joe@af.mil\n");
  CHECK(rewrite("To: x@y.z (comment)") == "To: x@y.z (comment)\n");
  seen.clear();
  CHECK(rewrite("To: <>", &seen) == "To: <>\n");
  CHECK(seen == std::vector<std::string>{""});
  CHECK(rewrite("To: joe", nullptr, "pobox", "example.com") == "To: joe@pobox.example.com\n");
  CHECK(rewrite("To: a:b") == "FAIL");
  CHECK(rewrite("To: a;;") == "FAIL");
  CHECK(rewrite("To: a)") == "To: \"a\\)\"@af.mil\n");
}

TEST_CASE("rfc822: quoting") {
  CHECK(quote("joe") == "joe");
  CHECK(quote("joe smith") == "\"joe smith\"");
  CHECK(quote(".joe") == "\".joe\"");
  CHECK(quote("a..b") == "\"a..b\"");
  CHECK(quote("") == "\"\"");
  CHECK(quote2("") == "");
  CHECK(quote2("a b@c@d") == "\"a b@c\"@d");
  CHECK(quote2("joe@x") == "joe@x");
  CHECK(unquote(*parse("\"a b\"@x (c)")) == "a b@x");
}

TEST_CASE("rfc822: an atom with an escaped special character is written back quoted") {
  // Found by the inject fuzz harness: `a\@b` was written back as `a@b`,
  // which reads as three tokens, so rewriting changed the address.
  auto t = parse("To: a\\@b@example.org, x\\:y, p\\ q");
  REQUIRE(t);
  CHECK((*t)[2] == Token{Tok::quote, "a@b"});
  std::string text = unparse(*t);
  CHECK(text == "To: \"a@b\"@example.org, \"x:y\", \"p q\"\n");
  auto again = parse(text);
  REQUIRE(again);
  CHECK(*again == *t);
  std::vector<std::string> seen;
  CHECK(rewrite("To: a\\@b@example.org", &seen) == "To: \"a@b\"@example.org\n");
  CHECK(seen == std::vector<std::string>{"a@b@example.org"});
}

TEST_CASE("rfc822: a backslash before a line break quotes nothing") {
  // Found by the inject fuzz harness: a field ending in a backslash quoted
  // its own final newline, and rewriting wrote it back as a line that began
  // a header field of its own.
  auto t = parse("To: lst\\\n");
  REQUIRE(t);
  REQUIRE(t->size() == 3);
  CHECK((*t)[2] == Token{Tok::quote, "lst\\"});
  CHECK(unparse(*t) == "To: \"lst\\\\\"\n");
  // Inside a quoted string or a comment the backslash stays and the fold is kept.
  auto q = parse("To: \"a\\\n b\" (c\\\n d)\n");
  REQUIRE(q);
  CHECK((*q)[2] == Token{Tok::quote, "a\\\n b"});
  CHECK((*q)[3] == Token{Tok::comment, "c\\\n d"});
  std::string text = unparse(*q);
  CHECK(text == "To: \"a\\\\\n b\" (c\\\\\n d)\n");
  CHECK(*parse(text) == *q);
  // A line break not followed by a blank never starts a line of its own.
  CHECK(unparse({{Tok::atom, "To"}, {Tok::colon, ""}, {Tok::quote, "x\nBcc: y"}}) == "To: \"x\n Bcc: y\"\n");
  std::vector<std::string> seen;
  CHECK(rewrite("To: lst\\\n", &seen) == "To: \"lst\\\\\"@af.mil\n");
}

TEST_CASE("rfc822: a backslash at the very end of the text ends it") {
  // Found by the inject fuzz harness (a sender of "[/@\"): the tokenizer
  // went back to the backslash for ever.
  auto t = parse("\"[/\"@\\");
  REQUIRE(t);
  CHECK(t->size() == 3);
  CHECK(parse("To: a\\"));
}
