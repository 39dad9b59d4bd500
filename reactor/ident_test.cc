// Unit tests of the RFC 1413 client: reply parsing, and a query against an
// ident server on loopback.
#include "reactor/ident.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <thread>

using reactor::parse_ident_reply;

TEST_CASE("ident: replies for the right connection give the user-id") {
  CHECK(parse_ident_reply("6193, 23 : USERID : UNIX : stjohns\r\n", 6193, 23) == "stjohns");
  CHECK(parse_ident_reply("6193,23:USERID:UNIX:stjohns", 6193, 23) == "stjohns");
  CHECK(parse_ident_reply(" 6193 , 23 : userid : OTHER, US-ASCII :  a:b c \r\n", 6193, 23) == "a:b c");
}

TEST_CASE("ident: anything else gives nothing") {
  CHECK_FALSE(parse_ident_reply("6193, 23 : ERROR : NO-USER\r\n", 6193, 23));
  CHECK_FALSE(parse_ident_reply("6193, 24 : USERID : UNIX : joe\r\n", 6193, 23));   // other connection
  CHECK_FALSE(parse_ident_reply("6194, 23 : USERID : UNIX : joe\r\n", 6193, 23));
  CHECK_FALSE(parse_ident_reply("6193 23 : USERID : UNIX : joe\r\n", 6193, 23));    // no comma
  CHECK_FALSE(parse_ident_reply("6193, 23 : USERID : UNIX\r\n", 6193, 23));         // no user-id field
  CHECK_FALSE(parse_ident_reply("6193, 23 : USERID : UNIX :   \r\n", 6193, 23));    // empty user-id
  CHECK_FALSE(parse_ident_reply("x6193, 23 : USERID : UNIX : joe", 6193, 23));
  CHECK_FALSE(parse_ident_reply(std::string("6193, 23 : USERID : UNIX : a\0b", 31), 6193, 23));
  CHECK_FALSE(parse_ident_reply("6193, 23 : USERID : UNIX : " + std::string(513, 'u'), 6193, 23));
  CHECK(parse_ident_reply("6193, 23 : USERID : UNIX : " + std::string(512, 'u'), 6193, 23));
  CHECK_FALSE(parse_ident_reply("", 1, 2));
}

namespace {
reactor::SockAddr loopback(uint16_t port) {
  return *reactor::parse_ip("127.0.0.1", port);
}
}  // namespace

TEST_CASE("ident: a query over loopback") {
  int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(srv >= 0);
  auto any = loopback(0);
  REQUIRE(::bind(srv, any.sa(), any.len) == 0);
  REQUIRE(::listen(srv, 4) == 0);
  uint16_t port = reactor::address_port(*reactor::local_address(srv));
  std::string query;
  std::thread server([&] {
    int c = ::accept(srv, nullptr, nullptr);
    if (c < 0) return;
    char buf[100];
    ssize_t n = ::read(c, buf, sizeof buf);
    if (n > 0) query.assign(buf, static_cast<size_t>(n));
    std::string reply = "4000 , 25 : USERID : UNIX : ann\r\n";
    (void)!::write(c, reply.data(), reply.size());
    ::close(c);
  });
  // The connection being asked about: client port 4000, server port 25.
  auto info = reactor::ident_lookup(loopback(25), loopback(4000), 5, port);
  server.join();
  CHECK(query == "4000 , 25\r\n");
  CHECK(info == "ann");
  // Nobody listening: nothing, at once.
  ::close(srv);
  CHECK_FALSE(reactor::ident_lookup(loopback(25), loopback(4000), 5, port));
}
