// Unit tests of qmail-inject's logic (inject.h) and the header split (inject_header.h).
#include "queue/inject.h"

#include <doctest/doctest.h>

using namespace queue;

namespace {

constexpr std::time_t kNow = 1605956160;  // 21 Nov 2020 10:56:00 UTC

InjectControls test_controls() {
  InjectControls c;
  c.me = "mail.example.com";
  c.defaultdomain = "example.com";
  c.plusdomain = "example.com";
  return c;
}

struct Run {
  InjectEnv env{{{"USER", "joe"}}};
  InjectControls controls = test_controls();
  RecipMode mode = RecipMode::deflt;
  std::vector<std::string> args;
  std::optional<std::string> sender;
  bool print = false;

  reactor::Result<Injection> operator()(std::string_view input) {
    Injector inj(env, controls, kNow, 4242);
    REQUIRE(inj.init());
    inj.set_mode(mode);
    if (sender) REQUIRE(inj.set_sender(*sender));
    for (auto& a : args) REQUIRE(inj.add_recipient(a));
    return inj.run(input, print);
  }
};

using Strs = std::vector<std::string>;

}  // namespace

TEST_CASE("inject_header: split and field names") {
  auto m = split_message("To: a,\n b\nSubject: x\n\nbody\nlast");
  REQUIRE(m.fields.size() == 2);
  CHECK(m.fields[0] == "To: a,\n b\n");
  CHECK(m.body == "\nbody\nlast\n");
  CHECK(field_kind("tO : x") == Field::to);
  CHECK(field_kind("Resent-Message-ID: x") == Field::resent_message_id);
  CHECK(field_kind("To-Do: x") == Field::unknown);
  CHECK(field_kind("Notice-Requested-Upon-Delivery-To: x") == Field::notice_requested_upon_delivery_to);
  CHECK(field_valid("X-Foo: y"));
  CHECK_FALSE(field_valid("Bad Header: x"));
  CHECK_FALSE(field_valid(": x"));
  // A first line that is no header makes everything body.
  auto b = split_message("Bad Header: x\nTo: y\n");
  CHECK(b.fields.empty());
  CHECK(b.body == "\nBad Header: x\nTo: y\n");
  auto f = split_message("From joe Sat Nov 21 10:56:00 2020\nTo: y\n");
  REQUIRE(f.fields.size() == 2);
  CHECK(f.fields[0] == "MBOX-Line: From joe Sat Nov 21 10:56:00 2020\n");
  CHECK(f.body.empty());
}

TEST_CASE("inject: added fields and default envelope") {
  Run r;
  auto out = r("Subject: hi\n\nbody\n");
  REQUIRE(out);
  CHECK(out->message ==
        "Date: 21 Nov 2020 10:56:00 -0000\n"
        "Message-ID: <20201121105600.4242.qmail@mail.example.com>\n"
        "From: joe@mail.example.com\n"
        "Cc: recipient list not shown: ;\n"
        "Subject: hi\n\nbody\n");
  CHECK(out->sender == "joe@mail.example.com");
  CHECK(out->recipients.empty());
}

TEST_CASE("inject: host masquerading with defaulthost (FAQ 1.1)") {
  Run r;
  r.controls.defaulthost = "af.mil";
  r.controls.defaultdomain = "af.mil";
  r.env.vars["NAME"] = "Joe Q. Public";
  auto out = r("To: fred\nSubject: x\n\nb\n");
  REQUIRE(out);
  CHECK(out->message.find("From: \"Joe Q. Public\" <joe@af.mil>\n") != std::string::npos);
  CHECK(out->message.find("To: fred@af.mil\n") != std::string::npos);
  CHECK(out->sender == "joe@af.mil");
  CHECK(out->recipients == Strs{"fred@af.mil"});
  r.env.vars["QMAILINJECT"] = "c";
  out = r("To: fred\n\nb\n");
  CHECK(out->message.find("From: joe@af.mil (Joe Q. Public)\n") != std::string::npos);
}

TEST_CASE("inject: user masquerading and QMAILINJECT=f (FAQ 1.2)") {
  Run r;
  r.env.vars["MAILHOST"] = "af.mil";
  r.env.vars["MAILUSER"] = "boss";
  auto out = r("From: joe@client.example\nTo: a@b.c\n\nx\n");
  REQUIRE(out);
  CHECK(out->message.find("From: joe@client.example\n") != std::string::npos);
  CHECK(out->sender == "boss@af.mil");
  r.env.vars["QMAILINJECT"] = "f";
  out = r("From: joe@client.example\nTo: a@b.c\n\nx\n");
  CHECK(out->message.find("joe@client.example") == std::string::npos);
  CHECK(out->message.find("From: boss@af.mil\n") != std::string::npos);
  r.env.vars["QMAILSUSER"] = "bounces";
  r.env.vars["QMAILSHOST"] = "lists.af.mil";
  CHECK(r("To: a@b.c\n\n")->sender == "bounces@lists.af.mil");
}

TEST_CASE("inject: recipient strategies and reverse order per field") {
  Run r;
  std::string msg = "To: a@x.y, b@x.y\nCc: c@x.y\nBcc: d@x.y\n\nbody\n";
  auto out = r(msg);
  REQUIRE(out);
  CHECK(out->recipients == Strs{"b@x.y", "a@x.y", "c@x.y", "d@x.y"});
  CHECK(out->message.find("Bcc") == std::string::npos);
  r.args = {"e@x.y"};
  CHECK(r(msg)->recipients == Strs{"e@x.y"});  // -A with arguments
  r.mode = RecipMode::both;
  CHECK(r(msg)->recipients == Strs{"e@x.y", "b@x.y", "a@x.y", "c@x.y", "d@x.y"});
  r.mode = RecipMode::header;
  CHECK(r(msg)->recipients == Strs{"b@x.y", "a@x.y", "c@x.y", "d@x.y"});
  r.mode = RecipMode::args;
  r.args = {"fred", "eric@mammoth+"};
  CHECK(r(msg)->recipients == Strs{"fred@mail.example.com", "eric@mammoth.example.com"});
}

TEST_CASE("inject: envelope sender from -f and Return-Path") {
  Run r;
  auto out = r("Return-Path: <rp@x.y>\nContent-Length: 5\nTo: a@b.c\n\nx\n");
  REQUIRE(out);
  CHECK(out->sender == "rp@x.y");
  CHECK(out->message.find("Return-Path") == std::string::npos);
  CHECK(out->message.find("Content-Length") == std::string::npos);
  r.sender = "list-owner";
  CHECK(r("Return-Path: <rp@x.y>\n\n")->sender == "list-owner@mail.example.com");
  r.sender = "";
  CHECK(r("Return-Path: <rp@x.y>\n\n")->sender == "");
  r.sender.reset();
  r.env.vars["QMAILINJECT"] = "s";
  CHECK(r("Return-Path: <rp@x.y>\n\n")->sender == "joe@mail.example.com");
}

TEST_CASE("inject: VERP flags r and m") {
  Run r;
  r.env.vars["QMAILINJECT"] = "r";
  CHECK(r("To: a@b.c\n\n")->sender == "joe-@mail.example.com-@[]");
  r.env.vars["QMAILINJECT"] = "m";
  CHECK(r("To: a@b.c\n\n")->sender == "joe-1605956160.4242@mail.example.com");
}

TEST_CASE("inject: resent messages") {
  Run r;
  auto out = r("Resent-To: x@y.z, w@y.z\nTo: orig@y.z\nFrom: a@b.c\nDate: yesterday\n\nb\n");
  REQUIRE(out);
  CHECK(out->recipients == Strs{"w@y.z", "x@y.z"});
  CHECK(out->message.rfind("Resent-Date: 21 Nov 2020 10:56:00 -0000\n"
                           "Resent-Message-ID: <20201121105600.4242.qmail@mail.example.com>\n"
                           "Resent-From: joe@mail.example.com\n"
                           "Resent-To: x@y.z, w@y.z\n", 0) == 0);
  out = r("Resent-From: me@x.y\nTo: orig@y.z\n\nb\n");
  CHECK(out->message.find("Resent-Cc: recipient list not shown: ;\n") != std::string::npos);
  CHECK(out->recipients.empty());
}

TEST_CASE("inject: -n prints a Return-Path line") {
  Run r;
  r.print = true;
  r.controls.idhost = "id.example";
  auto out = r("Message-ID: <x@y>\nFrom: a@b.c\nDate: d\nTo: t@u.v\n\n");
  REQUIRE(out);
  CHECK(out->message == "Return-Path: <joe@mail.example.com>\nMessage-ID: <x@y>\nFrom: a@b.c\nDate: d\nTo: t@u.v\n\n");
  r.env.vars["QMAILINJECT"] = "i";
  CHECK(r("To: t@u.v\n\n")->message.find("qmail@id.example>") != std::string::npos);
}

TEST_CASE("inject: broken headers") {
  Run r;
  auto bad = r("From: joe (unclosed\n\nx\n");
  REQUIRE_FALSE(bad);
  CHECK_FALSE(bad.error().temporary);
  CHECK(bad.error().text.rfind("unable to parse this line:", 0) == 0);
  CHECK_FALSE(r("To: a:b\n\n"));
  r.mode = RecipMode::args;
  r.args = {"x@y.z"};
  auto kept = r("To: a:b\n\n");  // -a leaves a broken recipient field alone
  REQUIRE(kept);
  CHECK(kept->message.find("To: a:b\n") != std::string::npos);
  CHECK(r("Bad Header: x\nTo: y\n")->message.find("Cc: recipient list not shown: ;\n\nBad Header") !=
        std::string::npos);
}

TEST_CASE("inject: environment and control defaults") {
  Run r;
  r.controls = {};
  r.env.vars = {};
  auto out = r("\n");
  REQUIRE(out);
  CHECK(out->sender == "anonymous@defaulthost.defaultdomain");
  r.env.vars = {{"LOGNAME", "lg"}, {"QMAILDEFAULTHOST", "h"}, {"QMAILDEFAULTDOMAIN", "d.org"},
                {"QMAILIDHOST", "ids"}, {"MAILNAME", "M N"}};
  out = r("\n");
  CHECK(out->sender == "lg@h.d.org");
  CHECK(out->message.find(".qmail@ids>") != std::string::npos);
  CHECK(out->message.find("From: \"M N\" <lg@h.d.org>\n") != std::string::npos);
  r.env.vars = {{"USER", "a b"}};
  CHECK(r("\n")->message.find("From: \"a b\"@defaulthost.defaultdomain\n") != std::string::npos);
}

TEST_CASE("inject: Mail-Followup-To") {
  Run r;
  r.controls.mft = Strs{"List@lists.example"};
  auto out = r("To: list@lists.example, x@y.z\nCc: c@d.e\n\n");
  REQUIRE(out);
  CHECK(out->message.find("Mail-Followup-To: c@d.e,\n  list@lists.example,\n  x@y.z\n") != std::string::npos);
  CHECK(r("To: other@lists.example\n\n")->message.find("Mail-Followup-To") == std::string::npos);
}

TEST_CASE("qmail-inject: a folded quoted address is unfolded for the envelope") {
  // Found by the inject fuzz harness: the line break of a folded quoted
  // string reached the envelope, where qmail-queue refuses it.
  Run run;
  auto r = run("To: \"a\n b\"@example.org, [1.2\n .3.4], c\nCc: \"x\r\n y\"@example.net\n\nbody\n");
  REQUIRE(r);
  CHECK(r->recipients ==
        Strs{"c@mail.example.com", "[1.2 .3.4]@mail.example.com", "a b@example.org", "x y@example.net"});
  // The header keeps the fold as it was written.
  CHECK(r->message.find("To: \"a\n b\"@example.org") != std::string::npos);
}

TEST_CASE("qmail-inject: an envelope address with a line break or NUL is refused") {
  Run run;
  auto r = run(std::string("To: \"a\rb\"@example.org\n\nbody\n"));
  REQUIRE_FALSE(r);
  CHECK_FALSE(r.error().temporary);
  CHECK(r.error().text == "address holds a line break or NUL: a\\rb@example.org");
  CHECK_FALSE(run(std::string("To: \"a\0b\"@example.org\n\nbody\n", 28)));
  // Arguments are refused as they are given.
  Injector inj(InjectEnv{{{"USER", "joe"}}}, test_controls(), kNow, 4242);
  REQUIRE(inj.init());
  auto a = inj.add_recipient("bob\nRSET@example.org");
  REQUIRE_FALSE(a);
  CHECK(a.error().text == "address holds a line break or NUL: bob\\nRSET@example.org");
  CHECK_FALSE(inj.set_sender("joe\r\n@example.org"));
  CHECK(inj.add_recipient("bob@example.org"));
}
