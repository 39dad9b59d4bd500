// Unit tests of the spawn pipe codec.
#include "queue/spawn_proto.h"

#include <doctest/doctest.h>

#include <optional>

using namespace queue::proto;

TEST_CASE("spawn request round trip, byte by byte") {
  Request r{3, "7/30", "joe@example.com", "bob@example.org"};
  std::string wire = encode_request(r);
  CHECK(wire == std::string("\x03" "7/30\0joe@example.com\0bob@example.org\0", 38));
  RequestDecoder d;
  for (size_t i = 0; i + 1 < wire.size(); ++i) {
    d.feed(wire.substr(i, 1));
    CHECK_FALSE(d.next());
  }
  d.feed(wire.substr(wire.size() - 1));
  auto got = d.next();
  REQUIRE(got);
  CHECK(got->slot == 3);
  CHECK(got->mess == "7/30");
  CHECK(got->sender == "joe@example.com");
  CHECK(got->recipient == "bob@example.org");
  CHECK_FALSE(d.next());
}

TEST_CASE("spawn request with empty sender and two in one chunk") {
  std::string wire = encode_request({0, "1/24", "", "a@b"}) + encode_request({1, "2/25", "x@y", "c@d"});
  RequestDecoder d;
  d.feed(wire);
  auto a = d.next();
  auto b = d.next();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->sender.empty());
  CHECK(b->slot == 1);
  CHECK(b->recipient == "c@d");
}

TEST_CASE("spawn request decoder refuses an endless field") {
  RequestDecoder d;
  d.feed(std::string(1, '\0') + std::string(kMaxRequestField + 10, 'a'));
  CHECK_FALSE(d.next());
  CHECK(d.error());
}

TEST_CASE("spawn report codec and over-long texts") {
  ReportDecoder d;
  d.feed(encode_report({2, 'K', "did 0+0+1\n"}));
  auto r = d.next();
  REQUIRE(r);
  CHECK(r->slot == 2);
  CHECK(r->status == 'K');
  CHECK(r->text == "did 0+0+1\n");
  std::string big(std::string(1, '\x05') + "Z" + std::string(kMaxReportText + 500, 'x'));
  d.feed(big);
  d.feed(std::string("tail", 4) + std::string(1, '\0') + encode_report({6, 'D', "no"}));
  auto a = d.next();
  REQUIRE(a);
  CHECK(a->slot == 5);
  CHECK(a->text.size() == kMaxReportText);
  auto b = d.next();
  REQUIRE(b);
  CHECK(b->status == 'D');
  CHECK(b->text == "no");
}

TEST_CASE("spawn codec: wide slots above 255") {
  CHECK(encode_hello(120, true) == std::string(1, '\x78'));
  CHECK(encode_hello(300, false) == std::string(1, '\xff'));
  CHECK(encode_hello(1000, true) == std::string("\0\x03\xe8", 3));
  Request rq{999, "12/345", "a@b", "c@d"};
  std::string w = encode_request(rq, true);
  CHECK(w.substr(0, 2) == std::string("\x03\xe7", 2));
  RequestDecoder rd(true);
  rd.feed(w.substr(0, 1));
  CHECK_FALSE(rd.next());
  rd.feed(w.substr(1));
  auto got = rd.next();
  REQUIRE(got);
  CHECK(got->slot == 999);
  CHECK(got->mess == "12/345");
  CHECK(got->recipient == "c@d");
  ReportDecoder pd(true);
  pd.feed(encode_report(Report{513, 'K', "ok"}, true));
  auto rep = pd.next();
  REQUIRE(rep);
  CHECK(rep->slot == 513);
  CHECK(rep->status == 'K');
  CHECK(rep->text == "ok");
}

TEST_CASE("spawn request decoder: a field of exactly the cap passes, however it arrives") {
  // Found by the spawn_proto fuzz harness: fed in pieces, a field of
  // kMaxRequestField bytes was refused before its NUL came.
  for (bool wide : {false, true}) {
    Request rq{7, std::string(kMaxRequestField, '1'), std::string(kMaxRequestField, 's'),
               std::string(kMaxRequestField - 1, 'r') + "@"};
    std::string wire = encode_request(rq, wide);
    RequestDecoder d(wide);
    std::optional<Request> got;
    for (size_t i = 0; i < wire.size() && !got; ++i) {
      d.feed(wire.substr(i, 1));
      got = d.next();
      REQUIRE_FALSE(d.error());
    }
    REQUIRE(got);
    CHECK(got->mess == rq.mess);
    CHECK(got->sender == rq.sender);
    CHECK(got->recipient == rq.recipient);
    RequestDecoder over(wide);
    over.feed(std::string(wide ? 2 : 1, '\x01') + std::string(kMaxRequestField + 1, '1'));
    CHECK_FALSE(over.next());
    CHECK(over.error());
  }
}

TEST_CASE("spawn hello: never a lone 0 byte, which would start the wide form") {
  CHECK(encode_hello(0, false) == std::string(1, '\x01'));
  CHECK(encode_hello(0, true) == std::string(1, '\x01'));
}
