// The SMTP client machine against scripted server transcripts.
#include "smtp/client.h"

#include <doctest/doctest.h>

using smtp::Client;
using smtp::Envelope;

namespace {

std::string nul(std::string s) {
  for (auto& c : s)
    if (c == '|') c = '\0';
  return s;
}

Client make(std::vector<std::string> rcpts = {"bob@remote.example"}) {
  return Client(Envelope{"me.example", "alice@me.example", std::move(rcpts)}, "192.0.2.5");
}

// Greeting + EHLO without PIPELINING: leaves the client waiting for MAIL's reply.
void to_mail(Client& c) {
  c.feed("220 remote.example ESMTP\r\n");
  CHECK(c.take_output() == "EHLO me.example\r\n");
  c.feed("250-remote.example\r\n250 8BITMIME\r\n");
  CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
}

}  // namespace

TEST_CASE("client: one recipient accepted end to end") {
  Client c = make();
  to_mail(c);
  c.feed("250 ok\r\n");
  CHECK(c.take_output() == "RCPT TO:<bob@remote.example>\r\n");
  c.feed("250 ok\r\n");
  CHECK(c.take_output() == "DATA\r\n");
  c.feed("354 go\r\n");
  REQUIRE(c.wants_body());
  c.body("Subject: x\n\n.dot\nlast");
  c.body("\n");
  c.body_end();
  CHECK(c.take_output() == "Subject: x\r\n\r\n..dot\r\nlast\r\n.\r\n");
  c.feed("250 ok 123 qp 9\r\n");
  CHECK(c.done());
  CHECK(c.take_output() == "QUIT\r\n");
  CHECK(c.take_reports() == nul("r|K192.0.2.5 accepted message.\nRemote host said: 250 ok 123 qp 9\n|"));
}

TEST_CASE("client: PIPELINING sends MAIL and RCPTs at once, DATA after the replies") {
  Client c = make({"a@x.example", "b@x.example"});
  c.feed("220 hi\r\n");
  c.take_output();
  c.feed("250-x.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
  CHECK(c.pipelining());
  CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\nRCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n");
  c.feed("250 ok\r\n550 no such user\r\n");
  CHECK(c.take_output().empty());
  c.feed("250 ok\r\n");
  CHECK(c.take_output() == "DATA\r\n");
  CHECK(c.take_reports() == nul("h192.0.2.5 does not like recipient.\nRemote host said: 550 no such user\n|r|"));
}

TEST_CASE("client: EHLO refused falls back to HELO; HELO refused defers") {
  Client c = make();
  c.feed("220 old\r\n");
  c.take_output();
  c.feed("502 what\r\n");
  CHECK(c.take_output() == "HELO me.example\r\n");
  c.feed("501 go away\r\n");
  CHECK(c.done());
  CHECK(c.take_reports() ==
        nul("ZConnected to 192.0.2.5 but my name was rejected.\nRemote host said: 501 go away\n|"));
}

TEST_CASE("client: greeting other than 220 defers, multi-line text kept") {
  Client c = make();
  c.feed("554-busy\r\n554 come back later\r\n");
  CHECK(c.done());
  CHECK(c.take_output() == "QUIT\r\n");
  CHECK(c.take_reports() ==
        nul("ZConnected to 192.0.2.5 but greeting failed.\nRemote host said: 554-busy\n554 come back later\n|"));
}

TEST_CASE("client: sender rejected, permanent and temporary") {
  for (auto [code, letter] : {std::pair{"553", 'D'}, std::pair{"451", 'Z'}}) {
    Client c = make();
    to_mail(c);
    c.feed(std::string(code) + " bad sender\r\n");
    CHECK(c.done());
    std::string r = c.take_reports();
    CHECK(r[0] == letter);
    CHECK(r.find("Connected to 192.0.2.5 but sender was rejected.\nRemote host said: ") == 1);
  }
}

TEST_CASE("client: all recipients refused gives up") {
  Client c = make();
  to_mail(c);
  c.feed("250 ok\r\n");
  c.take_output();
  c.feed("450 try later\r\n");
  CHECK(c.done());
  CHECK(c.take_output() == "QUIT\r\n");
  CHECK(c.take_reports() ==
        nul("s192.0.2.5 does not like recipient.\nRemote host said: 450 try later\n|DGiving up on 192.0.2.5.\n|"));
}

TEST_CASE("client: DATA refused and failure after the dot") {
  Client c = make();
  to_mail(c);
  c.feed("250 ok\r\n250 ok\r\n");
  c.take_output();
  c.feed("554 no data\r\n");
  CHECK(c.take_reports() == nul("r|D192.0.2.5 failed on DATA command.\nRemote host said: 554 no data\n|"));

  Client d = make();
  to_mail(d);
  d.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  d.body("x\n");
  d.body_end();
  d.feed("452 disk full\r\n");
  CHECK(d.take_reports() ==
        nul("r|Z192.0.2.5 failed after I sent the message.\nRemote host said: 452 disk full\n|"));
}

TEST_CASE("client: early close, and after the dot a possible duplicate") {
  Client c = make();
  c.feed("220 hi\r\n");
  c.connection_lost();
  CHECK(c.take_reports() == nul("ZConnected to 192.0.2.5 but connection died. (#4.4.2)\n|"));

  Client d = make();
  to_mail(d);
  d.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  d.body("x\n");
  d.body_end();
  d.connection_lost();
  CHECK(d.take_reports() ==
        nul("r|ZConnected to 192.0.2.5 but connection died. Possible duplicate! (#4.4.2)\n|"));
}

TEST_CASE("client: partial final line is refused; bare CR never reaches the wire") {
  Client c = make();
  to_mail(c);
  c.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  c.body("no newline");
  c.body_end();
  CHECK(c.done());
  CHECK(c.take_reports() == nul("r|DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|"));

  Client d = make();
  to_mail(d);
  d.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  d.take_output();
  d.body("a\r.\rb\n");  // a smuggling attempt: "\r.\r" must not end DATA
  d.body_end();
  std::string w = d.take_output();
  CHECK(w == "a\r\n..\r\nb\r\n.\r\n");
}

TEST_CASE("client: NULs in replies become '?', addresses get quoted") {
  Client c = make();
  c.feed(std::string("554 bad\0thing\r\n", 15));
  CHECK(c.take_reports().find("554 bad?thing\n") != std::string::npos);
  CHECK(smtp::quote_address("a b@x.example") == "\"a b\"@x.example");
  CHECK(smtp::quote_address("first.last@x.example") == "first.last@x.example");
  CHECK(smtp::quote_address("a..b@x") == "\"a..b\"@x");
  CHECK(smtp::quote_address("") == "");
  CHECK(smtp::quote_address("#@[]") == "#@[]");
}

TEST_CASE("client: addresses that would change the command line never reach the wire") {
  const std::string inject = "a\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<victim@elsewhere>@x.example";
  const std::string unsafe = "hSorry, this address contains characters that SMTP cannot carry. (#5.1.3)\n|";
  SUBCASE("without PIPELINING, in recipient order") {
    Client c = make({inject, "ok@x.example", "b@x.example> NOTIFY=NEVER"});
    to_mail(c);
    c.feed("250 ok\r\n");
    CHECK(c.take_output() == "RCPT TO:<ok@x.example>\r\n");
    c.feed("250 ok\r\n");
    CHECK(c.take_output() == "DATA\r\n");
    CHECK(c.take_reports() == nul(unsafe + "r|" + unsafe));
  }
  SUBCASE("with PIPELINING") {
    Client c = make({"ok@x.example", "tab\t@x.example", "b@x.example"});
    c.feed("220 hi\r\n");
    c.take_output();
    c.feed("250-x.example\r\n250 PIPELINING\r\n");
    CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\nRCPT TO:<ok@x.example>\r\nRCPT TO:<b@x.example>\r\n");
    c.feed("250 ok\r\n250 ok\r\n550 no\r\n");
    CHECK(c.take_output() == "DATA\r\n");
    CHECK(c.take_reports() == nul("r|" + unsafe + "h192.0.2.5 does not like recipient.\nRemote host said: 550 no\n|"));
  }
  SUBCASE("a sender with a line feed ends the session before MAIL") {
    Client c(Envelope{"me.example", "a\n@me.example", {"bob@x.example"}}, "192.0.2.5");
    c.feed("220 hi\r\n");
    c.take_output();
    c.feed("250 x.example\r\n");
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.done());
    CHECK(c.take_reports() ==
          nul("DSorry, the envelope sender contains characters that SMTP cannot carry. (#5.1.7)\n|"));
  }
  CHECK(smtp::wire_safe_address("\"odd local\"@x.example"));
  CHECK(smtp::wire_safe_address("a b@x.example"));  // quoted on the wire
  CHECK(smtp::wire_safe_address(""));
  CHECK_FALSE(smtp::wire_safe_address("a@x.example>"));
  CHECK_FALSE(smtp::wire_safe_address("postmaster bob"));
  CHECK_FALSE(smtp::wire_safe_address(std::string("a\0b@x", 5)));
}

namespace {

Client make_policy(smtp::TlsPolicy tls, int64_t size = -1, bool auth = false) {
  smtp::ClientPolicy p;
  p.tls = tls;
  p.host = "mx.remote.example";
  if (tls == smtp::TlsPolicy::required) p.tls_file = "tlshosts/mx.remote.example.pem";
  p.auth = auth;
  p.user = "joe";
  p.password = "secret";
  Envelope env{"me.example", "alice@me.example", {"bob@remote.example"}};
  env.size = size;
  return Client(std::move(env), "192.0.2.5", std::move(p));
}

// Greeting and the first EHLO with these extension lines.
void hello(Client& c, const std::string& ext) {
  c.feed("220 remote.example ESMTP\r\n");
  CHECK(c.take_output() == "EHLO me.example\r\n");
  c.feed("250-remote.example\r\n" + ext);
}

}  // namespace

TEST_CASE("client: STARTTLS offered is used, then EHLO again inside TLS") {
  Client c = make_policy(smtp::TlsPolicy::opportunistic);
  hello(c, "250-PIPELINING\r\n250 STARTTLS\r\n");
  CHECK(c.take_output() == "STARTTLS\r\n");
  CHECK_FALSE(c.wants_tls());
  // Bytes after the 220 in the same read are not the server's: dropped.
  c.feed("220 go ahead\r\n250 injected\r\n");
  REQUIRE(c.wants_tls());
  CHECK(c.take_output().empty());
  c.tls_started();
  CHECK(c.tls_active());
  CHECK_FALSE(c.pipelining());  // the plaintext EHLO no longer counts
  CHECK(c.take_output() == "EHLO me.example\r\n");
  c.feed("250-remote.example\r\n250 STARTTLS\r\n");  // not offered twice, and never used twice
  CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
}

TEST_CASE("client: STARTTLS refused under the opportunistic policy continues in plaintext") {
  Client c = make_policy(smtp::TlsPolicy::opportunistic);
  hello(c, "250 STARTTLS\r\n");
  CHECK(c.take_output() == "STARTTLS\r\n");
  c.feed("454 TLS not available\r\n");
  CHECK_FALSE(c.wants_tls());
  CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
  c.feed("250 ok\r\n");
  CHECK(c.take_output() == "RCPT TO:<bob@remote.example>\r\n");
}

TEST_CASE("client: the off policy never sends STARTTLS") {
  Client c = make_policy(smtp::TlsPolicy::off);
  hello(c, "250 STARTTLS\r\n");
  CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
}

TEST_CASE("client: required TLS not offered, refused, failed or unverified defers") {
  SUBCASE("not offered") {
    Client c = make_policy(smtp::TlsPolicy::required);
    hello(c, "250 8BITMIME\r\n");
    CHECK(c.done());
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.take_reports() == nul("ZNo TLS achieved while tlshosts/mx.remote.example.pem exists. (#4.7.0)\n|"));
  }
  SUBCASE("HELO only") {
    Client c = make_policy(smtp::TlsPolicy::required);
    c.feed("220 old\r\n");
    c.take_output();
    c.feed("500 what\r\n");
    CHECK(c.take_output() == "HELO me.example\r\n");
    c.feed("250 hi\r\n");
    CHECK(c.done());
    CHECK(c.take_reports() == nul("ZNo TLS achieved while tlshosts/mx.remote.example.pem exists. (#4.7.0)\n|"));
  }
  SUBCASE("refused") {
    Client c = make_policy(smtp::TlsPolicy::required);
    hello(c, "250 STARTTLS\r\n");
    c.take_output();
    c.feed("454 not now\r\n");
    CHECK(c.done());
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.take_reports() == nul("ZSTARTTLS rejected while tlshosts/mx.remote.example.pem exists. (#4.7.0)\n"
                                  "Remote host said: 454 not now\n|"));
  }
  SUBCASE("handshake failed") {
    Client c = make_policy(smtp::TlsPolicy::opportunistic);
    hello(c, "250 STARTTLS\r\n");
    c.take_output();
    c.feed("220 go\r\n");
    REQUIRE(c.wants_tls());
    c.tls_failed("handshake failed: bad record");
    CHECK(c.done());
    CHECK(c.take_output().empty());  // never plaintext after a failed handshake
    CHECK(c.take_reports() == nul("ZTLS connect failed: handshake failed: bad record. (#4.7.0)\n|"));
  }
  SUBCASE("unverified") {
    Client c = make_policy(smtp::TlsPolicy::required);
    hello(c, "250 STARTTLS\r\n");
    c.take_output();
    c.feed("220 go\r\n");
    c.tls_unverified("self-signed certificate");
    CHECK(c.done());
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.take_reports() == nul("ZTLS unable to verify server with tlshosts/mx.remote.example.pem: "
                                  "self-signed certificate. (#4.7.0)\n|"));
  }
}

TEST_CASE("client: SIZE too big fails permanently before MAIL; else SIZE= on MAIL") {
  SUBCASE("too big") {
    Client c = make_policy(smtp::TlsPolicy::off, 5000);
    hello(c, "250 SIZE 4096\r\n");
    CHECK(c.done());
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.take_reports() ==
          nul("DSorry, the message is larger than mx.remote.example's limit of 4096 bytes. (#5.3.4)\n|"));
  }
  SUBCASE("fits") {
    Client c = make_policy(smtp::TlsPolicy::off, 4096);
    hello(c, "250 SIZE 4096\r\n");
    CHECK(c.take_output() == "MAIL FROM:<alice@me.example> SIZE=4096\r\n");
  }
  SUBCASE("SIZE without a limit") {
    Client c = make_policy(smtp::TlsPolicy::off, 123456);
    hello(c, "250 SIZE\r\n");
    CHECK(c.take_output() == "MAIL FROM:<alice@me.example> SIZE=123456\r\n");
  }
  SUBCASE("size unknown") {
    Client c = make_policy(smtp::TlsPolicy::off);
    hello(c, "250 SIZE 10\r\n");
    CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
  }
}

TEST_CASE("client: AUTH PLAIN and LOGIN to a smarthost, only inside TLS") {
  auto tls_up = [](Client& c, const std::string& ext) {
    hello(c, "250 STARTTLS\r\n");
    CHECK(c.take_output() == "STARTTLS\r\n");
    c.feed("220 go\r\n");
    c.tls_started();
    CHECK(c.take_output() == "EHLO me.example\r\n");
    c.feed("250-remote.example\r\n" + ext);
  };
  SUBCASE("PLAIN preferred") {
    Client c = make_policy(smtp::TlsPolicy::opportunistic, -1, true);
    tls_up(c, "250 AUTH LOGIN PLAIN\r\n");
    CHECK(c.take_output() == "AUTH PLAIN AGpvZQBzZWNyZXQ=\r\n");  // "\0joe\0secret"
    c.feed("235 ok\r\n");
    CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
  }
  SUBCASE("LOGIN, old AUTH= form") {
    Client c = make_policy(smtp::TlsPolicy::opportunistic, -1, true);
    tls_up(c, "250 AUTH=LOGIN\r\n");
    CHECK(c.take_output() == "AUTH LOGIN\r\n");
    c.feed("334 VXNlcm5hbWU6\r\n");
    CHECK(c.take_output() == "am9l\r\n");
    c.feed("334 UGFzc3dvcmQ6\r\n");
    CHECK(c.take_output() == "c2VjcmV0\r\n");
    c.feed("235 ok\r\n");
    CHECK(c.take_output() == "MAIL FROM:<alice@me.example>\r\n");
  }
  SUBCASE("wrong password defers") {
    Client c = make_policy(smtp::TlsPolicy::opportunistic, -1, true);
    tls_up(c, "250 AUTH PLAIN\r\n");
    c.take_output();
    c.feed("535 5.7.8 bad credentials\r\n");
    CHECK(c.done());
    CHECK(c.take_reports() == nul("ZAuthentication with mx.remote.example failed. (#4.7.0)\n"
                                  "Remote host said: 535 5.7.8 bad credentials\n|"));
  }
  SUBCASE("no AUTH offered") {
    Client c = make_policy(smtp::TlsPolicy::opportunistic, -1, true);
    tls_up(c, "250 8BITMIME\r\n");
    CHECK(c.done());
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.take_reports() ==
          nul("Zmx.remote.example does not offer AUTH PLAIN or LOGIN, so I cannot authenticate. (#4.7.0)\n|"));
  }
  SUBCASE("no TLS: credentials never sent") {
    Client c = make_policy(smtp::TlsPolicy::opportunistic, -1, true);
    hello(c, "250 AUTH PLAIN\r\n");
    CHECK(c.done());
    CHECK(c.take_output() == "QUIT\r\n");
    CHECK(c.take_reports() == nul("ZAuthentication not sent: no TLS with mx.remote.example. (#4.7.0)\n|"));
  }
}
