// Unit tests of recipient rewriting.
#include "queue/rewrite.h"

#include <doctest/doctest.h>

namespace {
queue::Controls sample() {
  queue::Controls c;
  c.me = "me.example";
  c.envnoathost = "env.example";
  c.locals = {"me.example", "localhost"};
  c.percenthack = {"relay.example"};
  c.virtualdomains = {{"nowhere.mil", "bob"},          {"joe@virt.example", "joebox"},
                      {"virt.example", "virt"},        {".sub.example.com", "sub"},
                      {".example.com", "ex"},          {"out.example.com", ""}};
  return c;
}
}  // namespace

TEST_CASE("rewrite: envnoathost and locals") {
  auto c = sample();
  auto r = queue::rewrite_recipient(c, "joe");
  CHECK(r.address == "joe@env.example");
  CHECK(r.channel == queue::kRemote);
  r = queue::rewrite_recipient(c, "joe@ME.example");
  CHECK(r.address == "joe@ME.example");
  CHECK(r.channel == queue::kLocal);
}

TEST_CASE("rewrite: percenthack unwinds repeatedly") {
  auto c = sample();
  c.percenthack.insert("b.example");
  auto r = queue::rewrite_recipient(c, "a%b.example%me.example@relay.example");
  CHECK(r.address == "a%b.example@me.example");
  CHECK(r.channel == queue::kLocal);
  r = queue::rewrite_recipient(c, "a%b.example@relay.example");
  CHECK(r.address == "a@b.example");
  r = queue::rewrite_recipient(c, "plain@relay.example");
  CHECK(r.address == "plain@relay.example");
}

TEST_CASE("rewrite: virtualdomains order") {
  auto c = sample();
  CHECK(queue::rewrite_recipient(c, "info@nowhere.mil").address == "bob-info@nowhere.mil");
  CHECK(queue::rewrite_recipient(c, "info@nowhere.mil").channel == queue::kLocal);
  CHECK(queue::rewrite_recipient(c, "JOE@virt.example").address == "joebox-JOE@virt.example");
  CHECK(queue::rewrite_recipient(c, "ann@virt.example").address == "virt-ann@virt.example");
  CHECK(queue::rewrite_recipient(c, "a@x.sub.example.com").address == "sub-a@x.sub.example.com");
  CHECK(queue::rewrite_recipient(c, "a@x.example.com").address == "ex-a@x.example.com");
  auto r = queue::rewrite_recipient(c, "a@out.example.com");
  CHECK(r.channel == queue::kRemote);
  CHECK(r.address == "a@out.example.com");
  CHECK(queue::rewrite_recipient(c, "a@other.org").channel == queue::kRemote);
  c.virtualdomains[""] = "catch";
  CHECK(queue::rewrite_recipient(c, "a@other.org").address == "catch-a@other.org");
  // locals wins over virtualdomains
  c.virtualdomains["me.example"] = "nope";
  CHECK(queue::rewrite_recipient(c, "a@me.example").address == "a@me.example");
}

TEST_CASE("rewrite: stripping the prefix for bounces") {
  auto c = sample();
  CHECK(queue::strip_vdom_prefix(c, "bob-info@nowhere.mil") == "info@nowhere.mil");
  CHECK(queue::strip_vdom_prefix(c, "sub-a@x.sub.example.com") == "a@x.sub.example.com");
  CHECK(queue::strip_vdom_prefix(c, "other-info@nowhere.mil") == "other-info@nowhere.mil");
  CHECK(queue::strip_vdom_prefix(c, "joe@me.example") == "joe@me.example");
  CHECK(queue::strip_vdom_prefix(c, "noat") == "noat");
}
