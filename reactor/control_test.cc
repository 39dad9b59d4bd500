// Unit tests of control-file parsing and cdb files.
#include "reactor/control.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <unistd.h>

#include "reactor/cdb.h"
#include "reactor/fd.h"

using namespace reactor;

TEST_CASE("single-value control files use the first line without trailing blanks") {
  CHECK(parse_control_line("example.com \t\nsecond\n") == "example.com");
  CHECK(parse_control_line("") == "");
  CHECK(parse_control_line("no newline") == "no newline");
}

TEST_CASE("list control files skip comments and empty lines") {
  auto v = parse_control_list("a.example\n\n#comment\n  \nb.example  \n #not a comment\nlast");
  REQUIRE(v.size() == 4);
  CHECK(v[0] == "a.example");
  CHECK(v[1] == "b.example");
  CHECK(v[2] == " #not a comment");
  CHECK(v[3] == "last");
}

TEST_CASE("control files: missing, present, unparsable number") {
  char tmpl[] = "/tmp/evq-ctl-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl;
  auto missing = control_line(dir + "/none");
  REQUIRE(missing);
  CHECK_FALSE(*missing);
  REQUIRE(write_file_atomic(dir + "/n", "42 \n"));
  auto n = control_number(dir + "/n");
  REQUIRE(n);
  CHECK(**n == 42);
  REQUIRE(write_file_atomic(dir + "/bad", "x42\n"));
  CHECK_FALSE(control_number(dir + "/bad"));
  CHECK(lowercase("Ab.CD-9") == "ab.cd-9");
  ::unlink((dir + "/n").c_str());
  ::unlink((dir + "/bad").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("cdb writer and reader round trip with duplicate keys") {
  char tmpl[] = "/tmp/evq-cdb-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string path = std::string(tmpl) + "/t.cdb";
  {
    CdbWriter w;
    REQUIRE(w.create(path));
    REQUIRE(w.add("k", "one"));
    REQUIRE(w.add("k", "two"));
    REQUIRE(w.add(std::string("!joe\0", 5), "x"));
    REQUIRE(w.commit());
  }
  CdbReader r;
  REQUIRE(r.open(path));
  CHECK(r.find("k") == "one");
  CHECK(r.find_all("k").size() == 2);
  CHECK(r.find(std::string("!joe\0", 5)) == "x");
  CHECK_FALSE(r.find("!joe"));
  CdbReader none;
  auto st = none.open(std::string(tmpl) + "/missing");
  CHECK_FALSE(st);
  CHECK(st.error().text == "ENOENT");
  ::unlink(path.c_str());
  ::rmdir(tmpl);
}
