// Unit tests of serialqmtp's encoder, reply decoder and driver.
#include "smtp/serial_qmtp.h"

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace smtp;
using namespace std::string_literals;

TEST_CASE("serialqmtp: one message as three netstrings") {
  CHECK(qmtp_encode("Subject: x\n\nhi\n", "bob@a", "joe@virt.dom") ==
        "16:\nSubject: x\n\nhi\n,5:bob@a,16:12:joe@virt.dom,,");
  CHECK(qmtp_encode("", "", "a@b") == "1:\n,0:,6:3:a@b,,");
}

TEST_CASE("serialqmtp: replies") {
  auto k = parse_qmtp_reply("Kok 123");
  REQUIRE(k);
  CHECK(k->status == SerialStatus::kAccepted);
  CHECK(k->text == "ok 123");
  CHECK(parse_qmtp_reply("Dno")->status == SerialStatus::kPermanent);
  CHECK_FALSE(parse_qmtp_reply(""));
  CHECK_FALSE(parse_qmtp_reply("Xwhat"));
}

TEST_CASE("serialqmtp: driver over a socket pair, replies in order") {
  char dir[] = "/tmp/serialqmtp-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string f1 = std::string(dir) + "/m1", f2 = std::string(dir) + "/m2", f3 = std::string(dir) + "/m3";
  REQUIRE(reactor::write_file_atomic(f1, "Return-Path: <s@a>\nDelivered-To: p-r1@b\nbody1\n"));
  REQUIRE(reactor::write_file_atomic(f2, "Return-Path: <s@a>\nDelivered-To: x-r2@b\nbody2\n"));
  REQUIRE(reactor::write_file_atomic(f3, "Return-Path: <>\nDelivered-To: p-r3@b\nbody3\n"));
  int names[2], net[2], out[2];
  REQUIRE(::pipe(names) == 0);
  REQUIRE(::pipe(out) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, net) == 0);
  std::string list = f1 + '\0' + f2 + '\0' + f3 + '\0';
  REQUIRE(reactor::write_all(names[1], list));
  ::close(names[1]);
  // The server's replies are ready before the client starts: a pipelining peer.
  REQUIRE(reactor::write_all(net[1], "7:Kthanks,4:Dbad,"));
  auto s = run_serialqmtp(names[0], out[1], net[0], net[0], "p-", "10.0.0.1");
  CHECK(s);
  ::close(out[1]);
  std::string got;
  reactor::read_all(out[0], got);
  CHECK(got == f1 + "\0K10.0.0.1 said: thanks\n"s + f3 + "\0D10.0.0.1 said: bad\n"s);
  reactor::set_nonblock(net[1]);
  std::string wire;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(net[1], buf, sizeof buf)) > 0) wire.append(buf, static_cast<size_t>(n));
  CHECK(wire == "7:\nbody1\n,3:s@a,7:4:r1@b,,7:\nbody3\n,0:,7:4:r3@b,,");
  for (int fd : {names[0], out[0], net[0], net[1]}) ::close(fd);
  for (auto& f : {f1, f2, f3}) ::unlink(f.c_str());
  ::rmdir(dir);
}
