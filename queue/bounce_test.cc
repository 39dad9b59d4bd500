// Unit tests of bounce composition.
#include "queue/bounce.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "reactor/fd.h"

TEST_CASE("bounce: VERP sender expansion") {
  CHECK(queue::verp_sender("list-owner-@example.org-@[]", "joe@example.net") ==
        "list-owner-joe=example.net@example.org");
  CHECK(queue::verp_sender("list-owner-@example.org-@[]", "nohost") == "list-owner-@example.org-@[]");
  CHECK(queue::verp_sender("plain@example.org", "joe@example.net") == "plain@example.org");
  CHECK(queue::verp_sender("", "joe@example.net") == "");
}

TEST_CASE("bounce: entries") {
  CHECK(queue::bounce_entry("joe@x", "Sorry, no mailbox here by that name. (#5.1.1)\n") ==
        "<joe@x>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n");
  CHECK(queue::bounce_entry("joe@x", "line one\n\nline three") == "<joe@x>:\nline one\n/line three\n\n");
  CHECK(queue::bounce_entry("a\nb@x", "") == "<a_b@x>:\n\n");
}

TEST_CASE("bounce: kinds and targets") {
  CHECK(queue::bounce_kind("a@b") == queue::BounceKind::single);
  CHECK(queue::bounce_kind("") == queue::BounceKind::dbl);
  CHECK(queue::bounce_kind("#@[]") == queue::BounceKind::triple);
  CHECK(queue::bounce_target("x-@host-@[]") == "x-@host");
  CHECK(queue::bounce_target("x@host") == "x@host");
  CHECK(queue::quote_address("a b@c") == "\"a b\"@c");
  CHECK(queue::quote_address("a.b@c") == "a.b@c");
}

TEST_CASE("bounce: QSBMF single and double texts") {
  std::string entries = "<joe@x>:\nno such user\n\n";
  CHECK(queue::bounce_head("1 Jan 1970 00:00:00 -0000", "MAILER-DAEMON", "me.example", "ann@a",
                           "ann@a", entries) ==
        "Date: 1 Jan 1970 00:00:00 -0000\n"
        "From: MAILER-DAEMON@me.example\n"
        "To: ann@a\n"
        "Subject: failure notice\n"
        "\n"
        "Hi. This is the qmail-send program at me.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n"
        "\n"
        "<joe@x>:\nno such user\n\n"
        "--- Below this line is a copy of the message.\n"
        "\n"
        "Return-Path: <ann@a>\n");
  CHECK(queue::bounce_head("D", "MAILER-DAEMON", "me.example", "postmaster@me.example", "", entries) ==
        "Date: D\n"
        "From: MAILER-DAEMON@me.example\n"
        "To: postmaster@me.example\n"
        "Subject: failure notice\n"
        "\n"
        "Hi. This is the qmail-send program at me.example.\n"
        "I tried to deliver a bounce message to this address, but the bounce bounced!\n"
        "\n"
        "<joe@x>:\nno such user\n\n"
        "--- Below this line is the original bounce.\n"
        "\n"
        "Return-Path: <>\n");
}

// ---- opt-in RFC 3464 reports and the returned-copy cap ----

namespace {
// A parsed multipart body: the boundary and each part's header and content.
struct Part {
  std::string head, body;
};
struct Parsed {
  std::string top, boundary;
  std::vector<Part> parts;
  bool closed = false;
};

Parsed parse_report(const std::string& m) {
  Parsed p;
  size_t hend = m.find("\n\n");
  REQUIRE(hend != std::string::npos);
  p.top = m.substr(0, hend + 1);
  size_t b = p.top.find("boundary=\"");
  REQUIRE(b != std::string::npos);
  b += 10;
  p.boundary = p.top.substr(b, p.top.find('"', b) - b);
  const std::string delim = "--" + p.boundary;
  std::string body = m.substr(hend + 2);
  REQUIRE(body.compare(0, delim.size() + 1, delim + "\n") == 0);
  size_t pos = delim.size() + 1;
  for (;;) {
    size_t next = body.find("\n" + delim, pos);
    REQUIRE(next != std::string::npos);
    std::string part = body.substr(pos, next - pos);
    size_t ph = part.find("\n\n");
    REQUIRE(ph != std::string::npos);
    p.parts.push_back({part.substr(0, ph + 1), part.substr(ph + 2)});
    pos = next + 1 + delim.size();
    if (body.compare(pos, 3, "--\n") == 0) {
      p.closed = pos + 3 == body.size();
      break;
    }
    REQUIRE(body[pos] == '\n');
    ++pos;
  }
  return p;
}

queue::BounceSpec spec(queue::BounceFormat f) {
  queue::BounceSpec s;
  s.date = "D";
  s.bouncefrom = "MAILER-DAEMON";
  s.bouncehost = "me.example";
  s.to = "ann@a.example";
  s.sender = "ann@a.example";
  s.entries = queue::bounce_entry("joe@me.example", "Sorry, no mailbox here by that name. (#5.1.1)\n") +
              queue::bounce_entry("bob@far.example",
                                  "192.0.2.5 does not like recipient.\nRemote host said: 550-5.7.1 go\n"
                                  "550 5.7.1 away\nGiving up on 192.0.2.5.\n");
  s.format = f;
  s.reporting_mta = "mx.me.example";
  s.arrival_date = "A";
  s.boundary_seed = "7.100";
  s.is_local = [](std::string_view r) { return r.find("@me.example") != std::string_view::npos; };
  return s;
}

// The QSBMF body between the header and the Return-Path line.
std::string qsbmf_body(const queue::BounceSpec& s) {
  std::string h = queue::bounce_head(s.date, s.bouncefrom, s.bouncehost, s.to, s.sender, s.entries);
  size_t a = h.find("\n\n") + 2, z = h.rfind("\nReturn-Path: ");
  return h.substr(a, z - a);
}
}  // namespace

TEST_CASE("bounce: bounceformat values") {
  CHECK(queue::parse_bounce_format("") == queue::BounceFormat::qsbmf);
  CHECK(queue::parse_bounce_format("QSBMF") == queue::BounceFormat::qsbmf);
  CHECK(queue::parse_bounce_format("rfc3464") == queue::BounceFormat::rfc3464);
  CHECK_FALSE(queue::parse_bounce_format("dsn").has_value());
}

TEST_CASE("bounce: bounce/N read back") {
  std::string e = queue::bounce_entry("joe@x", "one\n\ntwo (#5.1.1)\n") + queue::bounce_entry("a\nb@y", "");
  auto v = queue::parse_bounce_entries(e);
  REQUIRE(v.size() == 2);
  CHECK(v[0].recipient == "joe@x");
  CHECK(v[0].report == "one\n\ntwo (#5.1.1)\n");
  CHECK(v[1].recipient == "a_b@y");
  CHECK(v[1].report.empty());
}

TEST_CASE("bounce: DSN status and diagnostic codes") {
  CHECK(queue::dsn_status("Sorry, no mailbox here by that name. (#5.1.1)\n") == "5.1.1");
  CHECK(queue::dsn_status("temp (#4.4.1)\nI'm not going to try again; this message has been in the queue too long.\n") ==
        "4.4.1");
  CHECK(queue::dsn_status("a (#4.3.0)\nb (#5.2.2)\n") == "5.2.2");
  CHECK(queue::dsn_status("x.\nRemote host said: 550 5.7.1 denied\n") == "5.7.1");
  CHECK(queue::dsn_status("x.\nRemote host said: 554 no\n") == "5.0.0");
  CHECK(queue::dsn_status("program said #5.1 or #9.1.1 or #5.1234.1") == "5.0.0");
  CHECK(queue::dsn_status("") == "5.0.0");
  CHECK(queue::dsn_diagnostic("1.2.3.4 does not like recipient.\nRemote host said: 550-first\n550 second\n"
                              "Giving up on 1.2.3.4.\n", false) == "smtp; 550-first 550 second");
  CHECK(queue::dsn_diagnostic("Sorry, no mailbox here by that name. (#5.1.1)\n", true) ==
        "x-unix; Sorry, no mailbox here by that name. (#5.1.1)");
  CHECK(queue::dsn_diagnostic("Sorry, I couldn't find any host named x. (#5.1.2)\n", false) ==
        "x-qmail; Sorry, I couldn't find any host named x. (#5.1.2)");
  CHECK(queue::dsn_diagnostic("tab\there\r\n\xff", true) == "x-unix; tab here ?");
}

TEST_CASE("bounce: message header and cap") {
  CHECK(queue::message_header("A: 1\nB: 2\n\nbody\n", 1000) == "A: 1\nB: 2\n");
  CHECK(queue::message_header("A: 1\nB: 2\n\nbody\n", 7) == "A: 1\n");
  CHECK(queue::message_header("\nbody\n", 1000) == "");
  CHECK(queue::message_header("A: 1\nB: 2", 1000) == "A: 1\nB: 2");
  CHECK(queue::message_header("A: 1\n", 0) == "");
}

TEST_CASE("bounce: QSBMF composition equals qmail's head plus the copy") {
  auto s = spec(queue::BounceFormat::qsbmf);
  std::string msg = "Received: x\n\nbody\n";
  std::string head = queue::bounce_head(s.date, s.bouncefrom, s.bouncehost, s.to, s.sender, s.entries);
  CHECK(queue::compose_bounce(s, {msg, false, 0, {}}) == head + msg);
  // Past the cap: the header, a blank line and the note.
  std::string capped = queue::compose_bounce(s, {queue::message_header(msg, 12), true, 12, {}});
  CHECK(capped == head + "Received: x\n\n--- Message body stripped: the message is larger than the bounce "
                         "limit of 12 bytes; only its header is returned.\n");
}

TEST_CASE("bounce: RFC 3464 report structure") {
  auto s = spec(queue::BounceFormat::rfc3464);
  std::string msg = "Received: x\nSubject: hi\n\nbody\n";
  std::string m = queue::compose_bounce(s, {msg, false, 0, {}});
  Parsed p = parse_report(m);
  CHECK(p.top.find("Date: D\nFrom: MAILER-DAEMON@me.example\nTo: ann@a.example\nSubject: failure notice\n"
                   "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n") == 0);
  CHECK(p.boundary == "=_evqmail.7.100");
  CHECK(p.closed);
  REQUIRE(p.parts.size() == 3);
  CHECK(p.parts[0].head == "Content-Type: text/plain; charset=us-ascii\n");
  CHECK(p.parts[0].body == qsbmf_body(s));
  CHECK(p.parts[1].head == "Content-Type: message/delivery-status\n");
  CHECK(p.parts[1].body ==
        "Reporting-MTA: dns; mx.me.example\n"
        "Arrival-Date: A\n"
        "\n"
        "Final-Recipient: rfc822; joe@me.example\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Diagnostic-Code: x-unix; Sorry, no mailbox here by that name. (#5.1.1)\n"
        "\n"
        "Final-Recipient: rfc822; bob@far.example\n"
        "Action: failed\n"
        "Status: 5.7.1\n"
        "Diagnostic-Code: smtp; 550-5.7.1 go 550 5.7.1 away\n");
  CHECK(p.parts[2].head == "Content-Type: message/rfc822\n");
  CHECK(p.parts[2].body == "Return-Path: <ann@a.example>\n" + msg);
  // Lines stay LF-terminated in the queue.
  CHECK(m.find('\r') == std::string::npos);
}

TEST_CASE("bounce: RFC 3464 boundary never occurs in the content") {
  auto s = spec(queue::BounceFormat::rfc3464);
  std::string msg = "Received: x\n\n--=_evqmail.7.100\n--=_evqmail.7.100.1\n";
  Parsed p = parse_report(queue::compose_bounce(s, {msg, false, 0, {}}));
  CHECK(p.boundary == "=_evqmail.7.100.2");
  REQUIRE(p.parts.size() == 3);
  CHECK(p.parts[2].body == "Return-Path: <ann@a.example>\n" + msg);
  CHECK(queue::mime_boundary("s", {"x", "=_evqmail.s"}) == "=_evqmail.s.1");
}

TEST_CASE("bounce: RFC 3464 with the cap returns headers only") {
  auto s = spec(queue::BounceFormat::rfc3464);
  std::string msg = "Received: x\nSubject: big\n\n" + std::string(5000, 'b') + "\n";
  queue::ReturnedCopy c{queue::message_header(msg, 1000), true, 1000, {}};
  Parsed p = parse_report(queue::compose_bounce(s, c));
  REQUIRE(p.parts.size() == 3);
  CHECK(p.parts[0].body == qsbmf_body(s) + "\n--- Message body stripped: the message is larger than the bounce "
                                           "limit of 1000 bytes; only its header is returned.\n");
  CHECK(p.parts[2].head == "Content-Type: text/rfc822-headers\n");
  CHECK(p.parts[2].body == "Return-Path: <ann@a.example>\nReceived: x\nSubject: big\n");
}

TEST_CASE("bounce: RFC 3464 double bounce keeps the double-bounce wording") {
  auto s = spec(queue::BounceFormat::rfc3464);
  s.sender = "";
  s.to = "postmaster@me.example";
  Parsed p = parse_report(queue::compose_bounce(s, {"Received: x\n\nbounce\n", false, 0, {}}));
  REQUIRE(p.parts.size() == 3);
  CHECK(p.parts[0].body.find("I tried to deliver a bounce message to this address, but the bounce bounced!\n") !=
        std::string::npos);
  CHECK(p.parts[0].body.find("--- Below this line is the original bounce.\n") != std::string::npos);
  CHECK(p.parts[0].body == qsbmf_body(s));
  CHECK(p.parts[2].body == "Return-Path: <>\nReceived: x\n\nbounce\n");
}

TEST_CASE("bounce: long diagnostics are folded") {
  auto s = spec(queue::BounceFormat::rfc3464);
  std::string words;
  for (int i = 0; i < 40; ++i) words += "word" + std::to_string(i) + " ";
  s.entries = queue::bounce_entry("joe@me.example", words + "(#5.2.2)");
  Parsed p = parse_report(queue::compose_bounce(s, {"R: x\n\nb\n", false, 0, {}}));
  REQUIRE(p.parts.size() == 3);
  const std::string& st = p.parts[1].body;
  size_t line = 0;
  for (size_t pos = 0, nl; (nl = st.find('\n', pos)) != std::string::npos; pos = nl + 1)
    line = std::max(line, nl - pos);
  CHECK(line <= 78);
  CHECK(st.find("Status: 5.2.2\n") != std::string::npos);
  CHECK(st.find("\n word") != std::string::npos);
}

namespace {
// A scratch file holding `text`, removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/evq-bounce-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    REQUIRE(reactor::write_all(fd, text));
    ::close(fd);
    path = tmpl;
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

// The bounce as qmail-send streams it: head, the file, tail.
std::string streamed(const queue::BounceSpec& s, const TempFile& f, const std::string& msg) {
  queue::ReturnedCopy c;
  c.streamed_contains = [&f](std::string_view x) { return queue::file_contains(f.path, x); };
  queue::BounceParts p = queue::compose_bounce_parts(s, c);
  return p.head + msg + p.tail;
}
}  // namespace

TEST_CASE("bounce: a streamed copy gives the same bytes as an in-memory one") {
  for (auto fmt : {queue::BounceFormat::qsbmf, queue::BounceFormat::rfc3464}) {
    auto s = spec(fmt);
    for (std::string msg : {std::string("Received: x\nSubject: hi\n\nbody\n"), std::string("no newline at end"),
                            std::string("R: x\n\n--=_evqmail.7.100\n--=_evqmail.7.100.1\n")}) {
      TempFile f(msg);
      CHECK(streamed(s, f, msg) == queue::compose_bounce(s, {msg, false, 0, {}}));
    }
  }
  // The boundary check sees a clash that only the file holds.
  auto s = spec(queue::BounceFormat::rfc3464);
  std::string msg = "R: x\n\n" + std::string(100000, 'x') + "--=_evqmail.7.100--\n";
  TempFile f(msg);
  Parsed p = parse_report(streamed(s, f, msg));
  CHECK(p.boundary == "=_evqmail.7.100.1");
  REQUIRE(p.parts.size() == 3);
  CHECK(p.parts[2].body == "Return-Path: <ann@a.example>\n" + msg);
}

TEST_CASE("bounce: file_contains finds a string across read chunks") {
  std::string big(65536 - 3, 'a');
  TempFile f(big + "needle" + std::string(70000, 'b'));
  CHECK(queue::file_contains(f.path, "needle"));
  CHECK(queue::file_contains(f.path, "aneedleb"));
  CHECK(queue::file_contains(f.path, "eb"));
  CHECK_FALSE(queue::file_contains(f.path, "needles"));
  CHECK_FALSE(queue::file_contains(f.path, "c"));
  CHECK_FALSE(queue::file_contains("/nonexistent/evq-bounce", "a"));
}

TEST_CASE("bounce: a CR or LF in an address never starts a header line") {
  const std::string evil = "a\r\nBcc: victim@elsewhere\n@x.example";
  std::string head = queue::bounce_head("d", "MAILER-DAEMON", "host.example", evil, evil,
                                        queue::bounce_entry(evil, "Sorry.\n"));
  CHECK(head.find("\nBcc:") == std::string::npos);
  CHECK(head.find('\r') == std::string::npos);
  CHECK(head.find("To: \"a__Bcc: victim@elsewhere_\"@x.example\n") != std::string::npos);
  CHECK(head.find("Return-Path: <\"a__Bcc: victim@elsewhere_\"@x.example>\n") != std::string::npos);
  CHECK(head.find("<a__Bcc: victim@elsewhere_@x.example>:\nSorry.\n") != std::string::npos);
}
