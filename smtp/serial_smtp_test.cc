// Unit tests of serialsmtp's dialogue against a scripted server.
#include "smtp/serial_smtp.h"

#include <deque>

#include <doctest/doctest.h>

using namespace smtp;
using namespace std::string_literals;

namespace {

// Replies queued as raw server text; everything we send is recorded.
class FakePeer : public SerialPeer {
 public:
  explicit FakePeer(std::string server) { parser_.feed(server); }
  void send(std::string_view b) override { sent += b; }
  reactor::Status flush() override { ++flushes; return {}; }
  reactor::Result<Reply> reply() override {
    if (auto r = parser_.next()) return *r;
    return reactor::temp_error("network read error: end of file");
  }
  std::string sent;
  int flushes = 0;

 private:
  ReplyParser parser_;
};

const std::string kMsg = "Return-Path: <bob@a.example>\nDelivered-To: at-1-joe@virt.dom\nSubject: s\n\n.dot\nbody\n";

}  // namespace

TEST_CASE("serialsmtp: EHLO without PIPELINING, one message, prefix stripped") {
  FakePeer p("220 hi\r\n250-virt.dom\r\n250-8BITMIME\r\n250 SIZE\r\n250 ok\r\n250 ok\r\n354 go\r\n250 accepted 1\r\n");
  SerialSmtp s(p, "at-1-", "isp.example", "127.0.0.2");
  REQUIRE(s.greet());
  CHECK_FALSE(s.pipelining());
  auto r = s.deliver("new/1", kMsg);
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == "new/1\0K127.0.0.2 said: 250 accepted 1\n"s);
  CHECK(p.sent ==
        "EHLO isp.example\r\nMAIL FROM:<bob@a.example>\r\nRCPT TO:<joe@virt.dom>\r\nDATA\r\n"
        "Subject: s\r\n\r\n..dot\r\nbody\r\n.\r\n");
  s.quit();
  CHECK(p.sent.substr(p.sent.size() - 6) == "QUIT\r\n");
}

TEST_CASE("serialsmtp: HELO fallback, RSET between messages, refusals reported") {
  FakePeer p("220 hi\r\n502 no\r\n250 hello\r\n250 ok\r\n550 no such user\r\n250 reset\r\n451 later\r\n");
  SerialSmtp s(p, "at-1-", "isp.example", nullptr);
  REQUIRE(s.greet());
  auto r1 = s.deliver("new/1", kMsg);
  REQUIRE(r1);
  CHECK(**r1 == "new/1\0D550 no such user\n"s);
  auto r2 = s.deliver("new/2", kMsg);
  REQUIRE(r2);
  CHECK(**r2 == "new/2\0Z451 later\n"s);
  CHECK(p.sent.find("HELO isp.example\r\n") != std::string::npos);
  CHECK(p.sent.find("RSET\r\nMAIL FROM") != std::string::npos);
}

TEST_CASE("serialsmtp: PIPELINING sends the envelope and DATA in one write") {
  FakePeer p("220 hi\r\n250-x\r\n250-PIPELINING\r\n250 8BITMIME\r\n250 ok\r\n250 ok\r\n354 go\r\n250 done\r\n"
             "250 reset\r\n250 ok\r\n553 bad rcpt\r\n503 no rcpt\r\n");
  SerialSmtp s(p, "at-1-", "h.example", nullptr);
  REQUIRE(s.greet());
  CHECK(s.pipelining());
  int before = p.flushes;
  auto r1 = s.deliver("new/1", kMsg);
  REQUIRE(r1);
  CHECK(**r1 == "new/1\0K250 done\n"s);
  CHECK(p.flushes - before == 2);  // envelope+DATA, then the body
  auto r2 = s.deliver("new/2", kMsg);
  REQUIRE(r2);
  CHECK(**r2 == "new/2\0D553 bad rcpt\n"s);
  CHECK(p.sent.find("RSET\r\nMAIL FROM:<bob@a.example>\r\nRCPT TO:<joe@virt.dom>\r\nDATA\r\n") != std::string::npos);
}

TEST_CASE("serialsmtp: skipped files, bad greeting, protocol violations") {
  {
    FakePeer p("220 hi\r\n250 ok\r\n");
    SerialSmtp s(p, "other-", "h", nullptr);
    REQUIRE(s.greet());
    auto r = s.deliver("new/1", kMsg);
    REQUIRE(r);
    CHECK_FALSE(*r);
    auto r2 = s.deliver("new/2", "no envelope\n");
    REQUIRE(r2);
    CHECK_FALSE(*r2);
    CHECK(p.sent == "EHLO h\r\n");
  }
  {
    FakePeer p("421 busy\r\n");
    SerialSmtp s(p, "", "h", nullptr);
    auto g = s.greet();
    REQUIRE_FALSE(g);
    CHECK(g.error().text == "connected but greeting failed");
    CHECK(p.sent == "QUIT\r\n");
  }
  {
    FakePeer p("220 hi\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");  // then EOF
    SerialSmtp s(p, "at-1-", "h", nullptr);
    REQUIRE(s.greet());
    auto r = s.deliver("new/1", kMsg);
    REQUIRE_FALSE(r);
  }
  {
    FakePeer p("220 hi\r\nxyz\r\n");
    SerialSmtp s(p, "", "h", nullptr);
    auto g = s.greet();
    REQUIRE_FALSE(g);
    CHECK(g.error().text == "protocol violation");
  }
}

TEST_CASE("serialsmtp: an address with a control character fails for good, unsent") {
  FakePeer p("220 hi\r\n250 virt.dom\r\n");
  SerialSmtp s(p, "at-1-", "isp.example", "127.0.0.2");
  REQUIRE(s.greet());
  const std::string sent = p.sent;
  auto r = s.deliver("new/1", "Return-Path: <bob\r@a.example>\nDelivered-To: at-1-joe@virt.dom\n\nx\n");
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == "new/1\0DSorry, an envelope address contains characters that SMTP cannot carry. (#5.1.3)\n"s);
  CHECK(p.sent == sent);
}
