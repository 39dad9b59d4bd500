// Unit tests of qmail-send's control set.
#include "queue/controls.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/evq-controls-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void put(const std::string& name, const std::string& text) {
    std::ofstream(path + "/" + name) << text;
  }
};
}  // namespace

TEST_CASE("controls: defaults chain through me") {
  TempDir d;
  d.put("me", "mx.Example.org\n");
  auto c = queue::load_controls(d.path);
  REQUIRE(c.ok());
  CHECK(c->is_local("MX.example.ORG"));
  CHECK(c->envnoathost == "mx.Example.org");
  CHECK(c->bouncehost == "mx.Example.org");
  CHECK(c->doublebouncehost == "mx.Example.org");
  CHECK(c->bouncefrom == "MAILER-DAEMON");
  CHECK(c->doublebounceto == "postmaster");
  CHECK(c->concurrency[0] == 10);
  CHECK(c->concurrency[1] == 20);
  CHECK(c->queuelifetime == 604800);
}

TEST_CASE("controls: no me, no locals refuses") {
  TempDir d;
  CHECK_FALSE(queue::load_controls(d.path).ok());
  d.put("locals", "a.example\n");
  auto c = queue::load_controls(d.path);
  REQUIRE(c.ok());
  CHECK(c->bouncehost == "bouncehost");
  CHECK(c->envnoathost == "envnoathost");
  CHECK(c->doublebouncehost == "doublebouncehost");
}

TEST_CASE("controls: explicit values, virtualdomains and bad numbers") {
  TempDir d;
  d.put("me", "me.example\n");
  d.put("locals", "# comment\nA.example\n\nb.example  \n");
  d.put("virtualdomains", "Nowhere.mil:bob\nx@y.example:joe:with:colons\n.dots.example:\nnocolon\n");
  d.put("concurrencylocal", "3\n");
  d.put("concurrencyremote", "999\n");
  d.put("queuelifetime", "3\n");
  d.put("bouncefrom", "bounces\n");
  auto c = queue::load_controls(d.path);
  REQUIRE(c.ok());
  CHECK(c->is_local("a.example"));
  CHECK(c->is_local("b.example"));
  CHECK_FALSE(c->is_local("me.example"));
  REQUIRE(c->vdom("nowhere.MIL"));
  CHECK(*c->vdom("nowhere.mil") == "bob");
  CHECK(*c->vdom("x@y.example") == "joe:with:colons");
  CHECK(c->vdom(".dots.example")->empty());
  CHECK(c->concurrency[0] == 3);
  CHECK(c->concurrency[1] == 999);  // above 255: kept for spawners with wide slots
  CHECK(c->queuelifetime == 3);
  CHECK(c->bouncefrom == "bounces");
  d.put("concurrencylocal", "many\n");
  CHECK_FALSE(queue::load_controls(d.path).ok());
}

TEST_CASE("controls: bounceformat and bouncemaxbytes") {
  TempDir d;
  d.put("me", "me.example\n");
  auto c = queue::load_controls(d.path);
  REQUIRE(c.ok());
  CHECK(c->bounceformat == queue::BounceFormat::qsbmf);  // qmail's format unless asked
  CHECK(c->bouncemaxbytes == 0);                         // no cap unless asked
  d.put("bounceformat", "RFC3464  \n");
  d.put("bouncemaxbytes", "10240\n");
  c = queue::load_controls(d.path);
  REQUIRE(c.ok());
  CHECK(c->bounceformat == queue::BounceFormat::rfc3464);
  CHECK(c->bouncemaxbytes == 10240);
  d.put("bounceformat", "qsbmf\n");
  c = queue::load_controls(d.path);
  REQUIRE(c.ok());
  CHECK(c->bounceformat == queue::BounceFormat::qsbmf);
  d.put("bounceformat", "mime\n");  // a typo must not silently pick a format
  CHECK_FALSE(queue::load_controls(d.path).ok());
  d.put("bounceformat", "rfc3464\n");
  d.put("bouncemaxbytes", "lots\n");
  CHECK_FALSE(queue::load_controls(d.path).ok());
}
