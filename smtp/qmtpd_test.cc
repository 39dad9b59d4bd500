// Unit tests of the QMTP server state machine.
#include "smtp/qmtpd.h"

#include <doctest/doctest.h>

#include "smtp/netstring.h"
#include "smtp/smtpd_test_util.h"

using smtp::netstring;
using smtp::Qmtpd;
using smtp::testing::FakePolicy;

namespace {
smtp::QmtpdConfig config() {
  smtp::QmtpdConfig c;
  c.peer.remoteip = "192.0.2.7";
  c.peer.local = "mx.example.org";
  return c;
}
std::string packet(const std::string& msg, const std::string& from, const std::vector<std::string>& to) {
  std::string list;
  for (const auto& t : to) list += netstring(t);
  return netstring(msg) + netstring(from) + netstring(list);
}
const std::string kOk = netstring("Kok 1605956160 qp 4242");
const std::string kDomain = netstring("Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
}  // namespace

TEST_CASE("qmtpd: one message, per-recipient replies, Received line") {
  FakePolicy p;
  p.allowed_domains = {"example.org"};
  Qmtpd q(config(), p);
  q.feed(packet("\nSubject: x\n\nbody\n", "s@a.example", {"u@example.org", "v@elsewhere.net", "w@example.org"}));
  CHECK(q.take_output() == kOk + kDomain + kOk);
  CHECK(p.message == "Received: from unknown (192.0.2.7)\n  by mx.example.org with QMTP; 21 Nov 2020 10:56:00 -0000\n"
                     "Subject: x\n\nbody\n");
  CHECK(p.from == "s@a.example");
  CHECK(p.to == std::vector<std::string>{"u@example.org", "w@example.org"});
  q.eof();
  CHECK(q.exit_code() == 0);
}

TEST_CASE("qmtpd: CR LF mode, several messages, byte at a time") {
  FakePolicy p;
  Qmtpd q(config(), p);
  std::string in = packet("\ra\r\nb\rc\r\n\r", "s", {"u@h"}) + packet("\nsecond\n", "", {"v@h"});
  std::string out;
  for (char c : in) {
    q.feed(std::string_view(&c, 1));
    out += q.take_output();
  }
  CHECK(out == kOk + kOk);
  CHECK(p.finished == 2);
  CHECK(p.to == std::vector<std::string>{"v@h"});
  CHECK(p.message.substr(p.message.find("-0000\n") + 6) == "second\n");
}

TEST_CASE("qmtpd: CR LF decoding keeps lone CRs") {
  FakePolicy p;
  Qmtpd q(config(), p);
  q.feed(packet("\ra\r\nb\rc\r\n\r", "s", {"u@h"}));
  CHECK(p.message.substr(p.message.find("-0000\n") + 6) == "a\nb\rc\n\r");
}

TEST_CASE("qmtpd: RELAYCLIENT, bad recipients, bad sender, databytes") {
  FakePolicy p;
  p.allowed_domains = {"example.org"};
  auto c = config();
  c.relayclient = "@fixme";
  Qmtpd q(c, p);
  q.feed(packet("\nx\n", "s", {"joe", std::string("a\0b", 3), std::string(995, 'l')}));
  CHECK(q.take_output() == kOk + netstring("Dsorry, I can't handle that recipient (#5.1.3)") +
                               netstring("Dsorry, I can't handle that recipient (#5.1.3)"));
  CHECK(p.to == std::vector<std::string>{"joe@fixme"});

  FakePolicy r;
  Qmtpd t(config(), r);
  t.feed(packet("\nx\n", std::string("a\0b", 3), {"u@h"}));
  CHECK(t.take_output() == netstring("Dunacceptable sender (#5.1.7)"));
  CHECK(r.finished == 0);

  FakePolicy s;
  auto d = config();
  d.databytes = 3;
  Qmtpd u(d, s);
  u.feed(packet("\nabcd", "", {"u@h"}) + packet("\nabc", "", {"u@h"}) + packet("\rab\r\nc", "", {"u@h"}));
  CHECK(u.take_output() == netstring("Dsorry, that message size exceeds my databytes limit (#5.3.4)") + kOk +
                               netstring("Dsorry, that message size exceeds my databytes limit (#5.3.4)"));
}

TEST_CASE("qmtpd: protocol errors exit 100 without a reply") {
  const char* bad[] = {"x:", "0:,", "3:\nab;", "2:\nx,1:s;", "2:\nx,0:,5:3:abc,", "2:\nx,0:,4:9:a,,", "2:ax,0:,0:,"};
  for (const char* b : bad) {
    CAPTURE(b);
    FakePolicy p;
    Qmtpd q(config(), p);
    q.feed(b);
    q.eof();
    CHECK(q.closed());
    CHECK(q.exit_code() == 100);
    CHECK(q.take_output().empty());
    CHECK(p.finished == 0);
  }
  FakePolicy p;
  Qmtpd q(config(), p);
  q.feed("5:\nab");  // the connection ends inside a message
  q.eof();
  CHECK(q.exit_code() == 100);
  CHECK(p.aborted == 1);
}

TEST_CASE("qmtpd: control characters in addresses are refused, never queued") {
  FakePolicy p;
  auto c = config();
  c.relayclient = "";
  Qmtpd q(c, p);
  const std::string bad = "a\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<victim@elsewhere>";
  q.feed(packet("\nx\n", "s@a.example", {"ok@h", bad, "t\tab@h", std::string("del\x7f@h")}));
  const std::string ctl = netstring("Dsorry, control characters are not allowed in addresses (#5.1.3)");
  CHECK(q.take_output() == kOk + ctl + ctl + ctl);
  CHECK(p.to == std::vector<std::string>{"ok@h"});

  FakePolicy r;
  Qmtpd t(c, r);
  t.feed(packet("\nx\n", "s\n@a.example", {"u@h", "v@h"}));
  const std::string sender = netstring("Dsorry, control characters are not allowed in addresses (#5.1.7)");
  CHECK(t.take_output() == sender + sender);
  CHECK(r.finished == 0);
}

TEST_CASE("qmtpd: replies to a huge recipient list come out piecewise") {
  FakePolicy p;
  p.allowed_domains = {"example.org"};
  Qmtpd q(config(), p);
  const size_t n = 300000;
  std::string list;
  for (size_t i = 0; i < n; ++i) list += "2:@x,";
  q.feed(netstring("\nx\n") + netstring("s") + netstring(list));
  size_t total = 0, pieces = 0, biggest = 0;
  bool same = true;
  do {
    std::string o = q.take_output();
    biggest = std::max(biggest, o.size());
    for (size_t i = 0; i < o.size(); i += kDomain.size()) same = same && o.compare(i, kDomain.size(), kDomain) == 0;
    total += o.size();
    ++pieces;
  } while (q.output_pending());
  CHECK(same);
  CHECK(total == n * kDomain.size());
  CHECK(biggest < 70000);
  CHECK(pieces > 100);
  CHECK(p.finished == 0);
}
