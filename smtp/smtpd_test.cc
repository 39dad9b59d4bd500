// Unit tests of the SMTP server state machine, byte for byte.
#include "smtp/smtpd.h"

#include <doctest/doctest.h>

#include "smtp/sasl.h"
#include "smtp/smtpd_test_util.h"

using smtp::Smtpd;
using smtp::testing::FakePolicy;

namespace {
smtp::SmtpdConfig config() {
  smtp::SmtpdConfig c;
  c.greeting = "mx.example.org";
  c.localiphost = "mx.example.org";
  c.peer.remoteip = "192.0.2.7";
  c.peer.remotehost = "client.example.net";
  c.peer.local = "mx.example.org";
  return c;
}

// Runs a whole dialogue fed in one piece (pipelined), returns the replies.
std::string talk(Smtpd& s, std::string_view in) {
  s.feed(in);
  return s.take_output();
}

const char* kDate = "21 Nov 2020 10:56:00 -0000";
}  // namespace

TEST_CASE("smtpd: greeting, HELO, EHLO, QUIT") {
  FakePolicy p;
  Smtpd s(config(), p);
  s.start();
  CHECK(s.take_output() == "220 mx.example.org ESMTP\r\n");
  CHECK(talk(s, "HELO x\r\n") == "250 mx.example.org\r\n");
  CHECK(talk(s, "ehlo x\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  CHECK(talk(s, "QUIT\r\n") == "221 mx.example.org\r\n");
  CHECK(s.closed());
  CHECK(s.exit_code() == 0);
  s.feed("NOOP\r\n");  // nothing after QUIT
  CHECK(s.take_output().empty());
}

TEST_CASE("smtpd: EHLO advertises SIZE when databytes is set") {
  FakePolicy p;
  auto c = config();
  c.databytes = 1000;
  Smtpd s(c, p);
  CHECK(talk(s, "EHLO x\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000\r\n");
  CHECK(talk(s, "MAIL FROM:<a@b> SIZE=1001\r\n") ==
        "552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
  CHECK(talk(s, "MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME\r\n") == "250 ok\r\n");
}

TEST_CASE("smtpd: simple commands and sequence errors") {
  FakePolicy p;
  Smtpd s(config(), p);
  CHECK(talk(s, "NOOP\r\n") == "250 ok\r\n");
  CHECK(talk(s, "VRFY root\r\n") == "252 send some mail, i'll try my best\r\n");
  CHECK(talk(s, "RSET\r\n") == "250 flushed\r\n");
  CHECK(talk(s, "HELP\r\n").rfind("214 ", 0) == 0);
  CHECK(talk(s, "EXPN x\r\nETRN\r\nTURN\r\nAUTH PLAIN\r\nSTARTTLS\r\n\r\n") ==
        "502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n"
        "502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n"
        "502 unimplemented (#5.5.1)\r\n");
  CHECK(talk(s, "RCPT TO:<a@b>\r\n") == "503 MAIL first (#5.5.1)\r\n");
  CHECK(talk(s, "DATA\r\n") == "503 MAIL first (#5.5.1)\r\n");
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nDATA\r\n") == "250 ok\r\n503 RCPT first (#5.5.1)\r\n");
  CHECK(talk(s, "RSET\r\nRCPT TO:<a@b>\r\n") == "250 flushed\r\n503 MAIL first (#5.5.1)\r\n");
  // HELO ends the transaction too.
  CHECK(talk(s, "MAIL FROM:<>\r\nHELO x\r\nRCPT TO:<a@b>\r\n") ==
        "250 ok\r\n250 mx.example.org\r\n503 MAIL first (#5.5.1)\r\n");
  // Bare-LF command lines are accepted, verbs are case-insensitive.
  CHECK(talk(s, "nOoP\n") == "250 ok\r\n");
  CHECK(p.opened == 0);
}

TEST_CASE("smtpd: a pipelined transaction, the Received line and the envelope") {
  FakePolicy p;
  Smtpd s(config(), p);
  s.start();
  s.take_output();
  CHECK(talk(s, "EHLO helo.example\r\nMAIL FROM:<Joe@Example.COM> BODY=8BITMIME\r\nRCPT TO:<a@x>\r\n"
                "RCPT TO:<\"b c\"@y>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\nline\r\n.\r\nQUIT\r\n") ==
        "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n250 ok\r\n250 ok\r\n250 ok\r\n"
        "354 go ahead\r\n250 ok 1605956160 qp 4242\r\n221 mx.example.org\r\n");
  CHECK(p.message == std::string("Received: from client.example.net (HELO helo.example) (192.0.2.7)\n"
                                 "  by mx.example.org with SMTP; ") + kDate + "\n"
                     "Subject: hi\n\n.dot\nline\n");
  CHECK(p.from == "Joe@Example.COM");
  CHECK(p.to == std::vector<std::string>{"a@x", "b c@y"});
  CHECK(p.finished == 1);
}

TEST_CASE("smtpd: Received line omits HELO equal to the remote host, adds remoteinfo") {
  FakePolicy p;
  auto c = config();
  c.peer.remoteinfo = "ident";
  Smtpd s(c, p);
  talk(s, "HELO CLIENT.example.net\r\nMAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\nx\r\n.\r\n");
  CHECK(p.message == std::string("Received: from client.example.net (ident@192.0.2.7)\n  by mx.example.org with SMTP; ") +
                         kDate + "\nx\n");
  // No HELO at all: the remote host stands in, so the part is omitted too.
  FakePolicy q;
  Smtpd t(config(), q);
  talk(t, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\nx\r\n.\r\n");
  CHECK(q.message.rfind("Received: from client.example.net (192.0.2.7)\n", 0) == 0);
  // Unsafe characters become '?'.
  FakePolicy r;
  Smtpd u(config(), r);
  talk(u, "HELO a b<c>\r\nMAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n.\r\n");
  CHECK(r.message.rfind("Received: from client.example.net (HELO a?b?c?) (192.0.2.7)\n", 0) == 0);
}

TEST_CASE("smtpd: byte-at-a-time input gives the same replies") {
  std::string in = "HELO h\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nl1\r\n.\r\nNOOP\r\n";
  FakePolicy p1, p2;
  Smtpd a(config(), p1), b(config(), p2);
  std::string whole = talk(a, in);
  std::string bytes;
  for (char c : in) bytes += talk(b, std::string_view(&c, 1));
  CHECK(whole == bytes);
  CHECK(p1.message == p2.message);
}

TEST_CASE("smtpd: after DATA a new MAIL is needed") {
  FakePolicy p;
  Smtpd s(config(), p);
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n.\r\nRCPT TO:<e@f>\r\nDATA\r\n") ==
        "250 ok\r\n250 ok\r\n354 go ahead\r\n250 ok 1605956160 qp 4242\r\n503 MAIL first (#5.5.1)\r\n"
        "503 MAIL first (#5.5.1)\r\n");
}

TEST_CASE("smtpd: address parsing") {
  FakePolicy p;
  Smtpd s(config(), p);
  talk(s, "MAIL\r\n");  // no argument: the null sender
  talk(s, "RCPT TO:<@a,@b:u@c>\r\n");           // source route dropped
  talk(s, "RCPT TO: v@d trailing\r\n");         // no brackets: word after the colon
  talk(s, "RCPT TO:<\"q>u\"@e>\r\n");          // quoted '>' is part of the address
  talk(s, "RCPT TO:<w\\>x@f>\r\n");            // backslash escapes
  talk(s, "RCPT TO:<>\r\n");                   // accepted (qmail quirk)
  talk(s, "RCPT TO:<box@[192.0.2.1]>\r\n");     // local IP literal -> localiphost
  talk(s, "RCPT TO:<box@[198.51.100.1]>\r\n");  // foreign IP literal unchanged
  talk(s, "RCPT TO:<box@[IPv6:2001:DB8:0::1]>\r\n");  // local IPv6 literal -> localiphost
  talk(s, "RCPT TO:<box@[IPv6:2001:db8::2]>\r\n");    // foreign IPv6 literal unchanged
  CHECK(talk(s, "DATA\r\n.\r\n").find("250 ok 1605956160") != std::string::npos);
  CHECK(p.from == "");
  CHECK(p.to == std::vector<std::string>{"u@c", "v@d", "q>u@e", "w>x@f", "", "box@mx.example.org",
                                         "box@[198.51.100.1]", "box@mx.example.org", "box@[IPv6:2001:db8::2]"});
}

TEST_CASE("smtpd: address limits and control characters") {
  FakePolicy p;
  Smtpd s(config(), p);
  CHECK(talk(s, "MAIL FROM:<" + std::string(899, 'a') + ">\r\n") == "250 ok\r\n");
  CHECK(talk(s, "MAIL FROM:<" + std::string(900, 'a') + ">\r\n") == "555 syntax error (#5.5.4)\r\n");
  CHECK(talk(s, "RCPT TO:<a\tb@c>\r\n") ==
        "553 sorry, control characters are not allowed in addresses (#5.1.3)\r\n");
  CHECK(talk(s, "RCPT TO:<a\\\rb@c>\r\n") ==
        "553 sorry, control characters are not allowed in addresses (#5.1.3)\r\n");
  CHECK(talk(s, "RCPT TO:<a\x7f@c>\r\n") ==
        "553 sorry, control characters are not allowed in addresses (#5.1.3)\r\n");
  CHECK(talk(s, std::string("RCPT TO:<a@c>\0<b@evil>\r\n", 25)) == "500 5.5.2 NUL character in command line\r\n");
}

TEST_CASE("smtpd: command lines are capped, the session goes on") {
  FakePolicy p;
  Smtpd s(config(), p);
  CHECK(talk(s, "NOOP " + std::string(995, 'x') + "\r\n") == "250 ok\r\n");  // 1000 octets: fine
  CHECK(talk(s, "NOOP " + std::string(996, 'x') + "\r\n") == "500 5.5.2 line too long\r\n");
  // A long line in pieces: one reply, bounded memory, state intact.
  talk(s, "MAIL FROM:<a@b>\r\n");
  for (int i = 0; i < 15; ++i) CHECK(talk(s, std::string(4096, 'y')).empty());
  CHECK(talk(s, "\r\nRCPT TO:<c@d>\r\n") == "500 5.5.2 line too long\r\n250 ok\r\n");
}

TEST_CASE("smtpd: an endless line ends the session once it passes 64 KB") {
  FakePolicy p;
  Smtpd s(config(), p);
  std::string out;
  for (int i = 0; i < 16 && !s.closed(); ++i) out += talk(s, std::string(4096, 'y'));
  CHECK(out.empty());
  CHECK_FALSE(s.closed());
  out += talk(s, std::string(4096, 'y'));
  CHECK(out == "500 5.5.2 line too long\r\n");
  CHECK(s.closed());
}

TEST_CASE("smtpd: recipients per message are capped") {
  FakePolicy p;
  auto c = config();
  c.max_rcpts = 3;
  Smtpd s(c, p);
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<a@b>\r\nRCPT TO:<a@b>\r\nRCPT TO:<a@b>\r\nRCPT TO:<a@b>\r\n") ==
        "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n452 too many recipients (#4.5.3)\r\n");
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<a@b>\r\n") == "250 ok\r\n250 ok\r\n");  // new transaction
}

TEST_CASE("smtpd: badmailfrom, whole addresses and @domain") {
  FakePolicy p;
  auto c = config();
  c.badmailfrom = {"spammer@example.com", "@bad.example"};
  Smtpd s(c, p);
  const char* bmf = "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n";
  CHECK(talk(s, "MAIL FROM:<Spammer@EXAMPLE.com>\r\nRCPT TO:<u@h>\r\n") == std::string("250 ok\r\n") + bmf);
  CHECK(talk(s, "DATA\r\n") == "503 RCPT first (#5.5.1)\r\n");
  CHECK(talk(s, "MAIL FROM:<x@Bad.Example>\r\nRCPT TO:<u@h>\r\n") == std::string("250 ok\r\n") + bmf);
  CHECK(talk(s, "MAIL FROM:<x@sub.bad.example>\r\nRCPT TO:<u@h>\r\n") == "250 ok\r\n250 ok\r\n");
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\n") == "250 ok\r\n250 ok\r\n");
}

TEST_CASE("smtpd: rcpthosts refusal and RELAYCLIENT") {
  const char* deny = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n";
  FakePolicy p;
  p.allowed_domains = {"example.org"};
  Smtpd s(config(), p);
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@example.org>\r\nRCPT TO:<u@elsewhere.net>\r\nRCPT TO:<joe>\r\n") ==
        std::string("250 ok\r\n250 ok\r\n") + deny + "250 ok\r\n");
  // RELAYCLIENT: no rcpthosts check, the value is appended (FAQ 5.5).
  FakePolicy q;
  q.allowed_domains = {"example.org"};
  auto c = config();
  c.relayclient = "@fixme";
  Smtpd t(c, q);
  talk(t, "MAIL FROM:<>\r\nRCPT TO:<joe>\r\nRCPT TO:<u@elsewhere.net>\r\nDATA\r\n.\r\n");
  CHECK(q.to == std::vector<std::string>{"joe@fixme", "u@elsewhere.net@fixme"});
  FakePolicy r;
  r.allowed_domains = {"example.org"};
  c.relayclient = "";
  Smtpd u(c, r);
  CHECK(talk(u, "MAIL FROM:<>\r\nRCPT TO:<u@elsewhere.net>\r\n") == "250 ok\r\n250 ok\r\n");
}

TEST_CASE("smtpd: queue failures") {
  FakePolicy p;
  p.open_fails = true;
  Smtpd s(config(), p);
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n") ==
        "250 ok\r\n250 ok\r\n451 qqt failure (#4.3.0)\r\n");
  FakePolicy q;
  q.finish_result = reactor::temp_error("qq write error or disk full (#4.3.0)");
  Smtpd t(config(), q);
  CHECK(talk(t, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n.\r\n").ends_with(
      "354 go ahead\r\n451 qq write error or disk full (#4.3.0)\r\n"));
  FakePolicy r;
  r.finish_result = reactor::perm_error("mail server permanently rejected message (#5.3.0)");
  Smtpd u(config(), r);
  CHECK(talk(u, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n.\r\n").ends_with(
      "354 go ahead\r\n554 mail server permanently rejected message (#5.3.0)\r\n"));
}

TEST_CASE("smtpd: databytes") {
  FakePolicy p;
  auto c = config();
  c.databytes = 10;
  Smtpd s(c, p);
  // "123456789\n" is exactly 10 decoded bytes: accepted.
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n123456789\r\n.\r\n").ends_with("250 ok 1605956160 qp 4242\r\n"));
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n1234567890\r\nmore\r\n.\r\nNOOP\r\n").ends_with(
      "354 go ahead\r\n552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n250 ok\r\n"));
  CHECK(p.aborted == 1);
  CHECK(p.finished == 1);
}

TEST_CASE("smtpd: too many hops") {
  FakePolicy p;
  Smtpd s(config(), p);
  std::string head;
  for (int i = 0; i < 50; ++i) head += "Received: x\r\nDelivered-To: y\r\n";
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n" + head + "\r\nbody\r\n.\r\n").ends_with(
      "554 too many hops, this message is looping (#5.4.6)\r\n"));
  // 99 hops pass; Received lines in the body do not count.
  FakePolicy q;
  Smtpd t(config(), q);
  head.erase(0, std::string("Received: x\r\n").size());
  CHECK(talk(t, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n" + head + "\r\nReceived: z\r\n.\r\n").ends_with(
      "250 ok 1605956160 qp 4242\r\n"));
}

TEST_CASE("smtpd: SMTP smuggling variants never end DATA") {
  const std::string smtplf = "451 See https://cr.yp.to/docs/smtplf.html.\r\n";
  const char* variants[] = {
      "a\n.\r\nMAIL FROM:<evil@x>\r\n",     // <LF>.<CR><LF>
      "a\r\n.\nMAIL FROM:<evil@x>\r\n",     // <CR><LF>.<LF>
      "a\n.\nMAIL FROM:<evil@x>\r\n",       // <LF>.<LF>
      "a\r.\r\nMAIL FROM:<evil@x>\r\n",     // <CR>.<CR><LF>
      "a\r\n.\rMAIL FROM:<evil@x>\r\n",     // <CR><LF>.<CR>
      "a\r.\rMAIL FROM:<evil@x>\r\n",       // <CR>.<CR>
      "a\rMAIL FROM:<evil@x>\r\n",          // lone CR
      "\n.\r\n",                            // bare LF first
      "a\r\r\n.\r\n",                       // CR CR LF
      "a\r\n.\r\r\n",                       // .<CR><CR><LF>
      "a\r\n\n.\r\n",                       // empty bare-LF line
  };
  for (const char* v : variants) {
    CAPTURE(v);
    FakePolicy p;
    Smtpd s(config(), p);
    std::string r = talk(s, std::string("MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n") + v + "RCPT TO:<x@y>\r\nDATA\r\n.\r\n");
    CHECK(r == "250 ok\r\n250 ok\r\n354 go ahead\r\n" + smtplf);
    CHECK(s.closed());
    CHECK(p.finished == 0);
    CHECK(p.aborted == 1);
  }
  // A dot line that is not alone, and "..", never end the message.
  FakePolicy p;
  Smtpd s(config(), p);
  CHECK(talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\n. \r\n..\r\n.x\r\n.\r\n").ends_with("250 ok 1605956160 qp 4242\r\n"));
  CHECK(p.message.substr(p.message.find("-0000\n") + 6) == " \n.\nx\n");
}

TEST_CASE("smtpd: end of input and timeout") {
  FakePolicy p;
  Smtpd s(config(), p);
  talk(s, "MAIL FROM:<>\r\nRCPT TO:<u@h>\r\nDATA\r\npart");
  s.eof();
  CHECK(s.closed());
  CHECK(p.aborted == 1);
  CHECK(s.exit_code() == 1);
  FakePolicy q;
  Smtpd t(config(), q);
  t.timeout();
  CHECK(t.take_output() == "451 timeout (#4.4.2)\r\n");
  CHECK(t.closed());
}

TEST_CASE("smtpd: STARTTLS drops what was pipelined behind it, and the session starts afresh") {
  FakePolicy p;
  auto c = config();
  c.starttls = true;
  Smtpd s(c, p);
  CHECK(talk(s, "EHLO helo.example\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nSTARTTLS now\r\n") ==
        "250 ok\r\n501 Syntax error (no parameters allowed) (#5.5.4)\r\n");
  CHECK_FALSE(s.wants_tls());
  // An attacker's commands behind STARTTLS in the same packet never run.
  CHECK(talk(s, "STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<v@x>\r\n") == "220 ready for tls\r\n");
  CHECK(s.wants_tls());
  CHECK(talk(s, "NOOP\r\n").empty());  // plaintext after it is not read either
  s.tls_started("TLS_AES_256_GCM_SHA384");
  CHECK_FALSE(s.wants_tls());
  CHECK(s.tls());
  // MAIL from before the handshake is forgotten; EHLO offers STARTTLS no more.
  CHECK(talk(s, "RCPT TO:<v@x>\r\n") == "503 MAIL first (#5.5.1)\r\n");
  CHECK(talk(s, "EHLO client.example.net\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  CHECK(talk(s, "STARTTLS\r\n") == "502 unimplemented (#5.5.1)\r\n");
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<r@x>\r\nDATA\r\nx\r\n.\r\n") ==
        "250 ok\r\n250 ok\r\n354 go ahead\r\n250 ok 1605956160 qp 4242\r\n");
  CHECK(p.message == std::string("Received: from client.example.net (192.0.2.7)\n"
                                 "  by mx.example.org with ESMTPS (TLS_AES_256_GCM_SHA384 encrypted); ") +
                         kDate + "\nx\n");
}

TEST_CASE("smtpd: STARTTLS without a certificate is not offered") {
  FakePolicy p;
  Smtpd s(config(), p);
  CHECK(talk(s, "EHLO x\r\nSTARTTLS\r\nNOOP\r\n") ==
        "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n502 unimplemented (#5.5.1)\r\n250 ok\r\n");
  CHECK_FALSE(s.wants_tls());
}

namespace {
std::string b64(std::string_view s) { return smtp::sasl::base64_encode(s); }

smtp::SmtpdConfig auth_config(const char* smtpauth = nullptr, const char* forcetls = "0") {
  smtp::SmtpdConfig c = config();
  smtp::parse_auth_env(c.auth, true, smtpauth, forcetls, nullptr);
  c.auth.cram_host = "mx.example.org";
  return c;
}
}  // namespace

TEST_CASE("smtpd: SMTPAUTH and FORCETLS as the patches read them") {
  smtp::SmtpdAuth a;
  smtp::parse_auth_env(a, false, nullptr, nullptr, nullptr);
  CHECK_FALSE(a.configured);
  CHECK_FALSE(a.offered);
  smtp::SmtpdAuth b;
  smtp::parse_auth_env(b, true, nullptr, nullptr, "2.5");
  CHECK(b.offered);
  CHECK(b.force_tls);
  CHECK(b.login_plain);
  CHECK_FALSE(b.cram);
  CHECK_FALSE(b.required);
  CHECK(b.fail_delay == 2.5);
  for (const char* off : {"-", "0"}) {
    smtp::SmtpdAuth x;
    smtp::parse_auth_env(x, true, off, nullptr, nullptr);
    CHECK(x.configured);
    CHECK_FALSE(x.offered);
  }
  smtp::SmtpdAuth r;
  smtp::parse_auth_env(r, true, "!", "0", "1000");
  CHECK(r.required);
  CHECK_FALSE(r.force_tls);
  CHECK(r.fail_delay == 60);
  smtp::SmtpdAuth c;
  smtp::parse_auth_env(c, true, "CRAM", nullptr, "x");
  CHECK(c.cram);
  CHECK_FALSE(c.login_plain);
  CHECK(c.fail_delay == 5);
  smtp::SmtpdAuth pc;
  smtp::parse_auth_env(pc, true, "!+cram", nullptr, nullptr);
  CHECK(pc.cram);
  CHECK(pc.login_plain);
  CHECK(pc.required);
}

TEST_CASE("smtpd: AUTH is offered only over TLS unless FORCETLS=0") {
  FakePolicy p;
  Smtpd s(auth_config(nullptr, nullptr), p);
  CHECK(talk(s, "EHLO x\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  CHECK(talk(s, "AUTH PLAIN " + b64(std::string("\0alice\0s3cret", 13)) + "\r\n") ==
        "538 auth not available without TLS (#5.3.3)\r\n");
  CHECK(p.checks.empty());
  s.tls_started("TLS_AES_256_GCM_SHA384");
  CHECK(talk(s, "EHLO x\r\n") ==
        "250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n");
  CHECK(talk(s, "AUTH PLAIN " + b64(std::string("\0alice\0s3cret", 13)) + "\r\n") == "235 ok, go ahead (#2.0.0)\r\n");
  CHECK(s.authenticated());
  CHECK(p.logs == std::vector<std::string>{"auth: auth-success type=plain user=<alice>"});
  // Relaying as RELAYCLIENT allows it; the Received line says who and how.
  p.allowed_domains = {"mx.example.org"};
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n") ==
        "250 ok\r\n250 ok\r\n354 go ahead\r\n");
  CHECK(talk(s, "hi\r\n.\r\n") == "250 ok 1605956160 qp 4242\r\n");
  CHECK(p.message == std::string("Received: from client.example.net (HELO x) (alice@192.0.2.7)\n  by mx.example.org "
                                 "with ESMTPSA (TLS_AES_256_GCM_SHA384 encrypted, authenticated); ") +
                         kDate + "\nhi\n");
  CHECK(talk(s, "AUTH LOGIN\r\n") == "503 you're already authenticated (#5.5.0)\r\n");
}

TEST_CASE("smtpd: AUTH LOGIN, PLAIN and CRAM-MD5 exchanges") {
  FakePolicy p;
  Smtpd s(auth_config("+cram"), p);
  CHECK(talk(s, "EHLO x\r\n") ==
        "250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN CRAM-MD5\r\n250 8BITMIME\r\n");
  CHECK(talk(s, "AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
  CHECK(talk(s, b64("alice") + "\r\n") == "334 UGFzc3dvcmQ6\r\n");
  CHECK(talk(s, b64("wrong") + "\r\n") == "535 authentication failed (#5.7.1)\r\n");
  CHECK(s.take_delay() == 5);
  CHECK(s.take_delay() == 0);
  CHECK(p.checks.back() == "alice|wrong|");
  CHECK(p.logs.back() == "auth: auth-failed type=login user=<alice>");
  // The user as an initial response, then the password.
  CHECK(talk(s, "AUTH login " + b64("alice") + "\r\n") == "334 UGFzc3dvcmQ6\r\n");
  CHECK(talk(s, "*\r\n") == "501 auth exchange canceled (#5.0.0)\r\n");
  CHECK(talk(s, "AUTH PLAIN\r\n") == "334 \r\n");
  CHECK(talk(s, "not base64!\r\n") == "501 malformed auth input (#5.5.4)\r\n");
  CHECK(talk(s, "AUTH PLAIN " + b64("alice") + "\r\n") == "501 malformed auth input (#5.5.4)\r\n");
  CHECK(talk(s, "AUTH PLAIN " + b64(std::string("\0al\rice\0x", 10)) + "\r\n") ==
        "501 malformed auth input (#5.5.4)\r\n");
  CHECK(talk(s, "AUTH GSSAPI\r\n") == "504 auth type unimplemented (#5.5.1)\r\n");
  CHECK(talk(s, "AUTH CRAM-MD5\r\n") == "334 " + b64("<777.1605956160@mx.example.org>") + "\r\n");
  CHECK(talk(s, b64("alice 0123456789abcdef") + "\r\n") == "535 authentication failed (#5.7.1)\r\n");
  CHECK(p.checks.back() == "alice|0123456789abcdef|<777.1605956160@mx.example.org>");
  CHECK(p.checks.size() == 2);  // malformed input never reaches the checkpassword
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nAUTH LOGIN\r\nRSET\r\n") ==
        "250 ok\r\n503 no auth during mail transaction (#5.5.0)\r\n250 flushed\r\n");
  // The third failure ends the session.
  CHECK(talk(s, "AUTH LOGIN " + b64("bob") + "\r\n" + b64("x") + "\r\nNOOP\r\n") ==
        "334 UGFzc3dvcmQ6\r\n535 authentication failed (#5.7.1)\r\n"
        "421 too many failed authentications, closing connection (#4.7.0)\r\n");
  CHECK(s.closed());
  CHECK_FALSE(s.authenticated());
}

TEST_CASE("smtpd: AUTH required, unavailable, unconfigured, temporary") {
  FakePolicy p;
  Smtpd s(auth_config("!"), p);
  CHECK(talk(s, "MAIL FROM:<a@b>\r\n") == "530 Authorization required (#5.7.1)\r\n");
  p.auth_temporary = true;
  CHECK(talk(s, "AUTH PLAIN " + b64(std::string("\0alice\0s3cret", 13)) + "\r\n") ==
        "454 oops, problem with child and I can't auth (#4.3.0)\r\n");
  CHECK(s.take_delay() == 0);
  p.auth_temporary = false;
  CHECK(talk(s, "AUTH LOGIN\r\n" + b64("alice") + "\r\n" + b64("s3cret") + "\r\nMAIL FROM:<a@b>\r\n") ==
        "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok, go ahead (#2.0.0)\r\n250 ok\r\n");
  CHECK(p.authed_user == "alice");
  CHECK(p.authed_method == "login");

  FakePolicy q;
  Smtpd off(auth_config("-"), q);
  CHECK(talk(off, "EHLO x\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  CHECK(talk(off, "AUTH LOGIN\r\n") == "503 auth not available (#5.3.3)\r\n");
  Smtpd none(config(), q);
  CHECK(talk(none, "AUTH LOGIN\r\n") == "502 unimplemented (#5.5.1)\r\n");
  Smtpd cram_only(auth_config("cram"), q);
  CHECK(talk(cram_only, "EHLO x\r\n") == "250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH CRAM-MD5\r\n250 8BITMIME\r\n");
  CHECK(talk(cram_only, "AUTH PLAIN\r\n") == "504 auth type unimplemented (#5.5.1)\r\n");
}

TEST_CASE("smtpd: an AUTH given in plaintext is forgotten by STARTTLS") {
  FakePolicy p;
  smtp::SmtpdConfig c = auth_config();
  c.starttls = true;
  Smtpd s(c, p);
  CHECK(talk(s, "AUTH PLAIN " + b64(std::string("\0alice\0s3cret", 13)) + "\r\n") == "235 ok, go ahead (#2.0.0)\r\n");
  CHECK(talk(s, "STARTTLS\r\n") == "220 ready for tls\r\n");
  s.tls_started("ECDHE-RSA-AES256-GCM-SHA384");
  CHECK_FALSE(s.authenticated());
  CHECK(p.authed_user.empty());
  p.allowed_domains = {"mx.example.org"};
  CHECK(talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<x@elsewhere.example>\r\n") ==
        "250 ok\r\n553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n");
}
