// Unit tests of qmail-pop3d's transaction state, command by command.
#include "pop3/pop3d.h"

#include <doctest/doctest.h>

using namespace pop3;

namespace {

// Records QUIT's file operations; paths listed in `fail` fail.
struct FakeOps : FileOps {
  std::vector<std::string> log;
  std::string fail;
  bool unlink(const std::string& p) override { log.push_back("unlink " + p); return p != fail; }
  bool rename(const std::string& f, const std::string& t) override {
    log.push_back("rename " + f + " " + t);
    return true;
  }
};

std::vector<Message> three() {
  return {{"new/100.a.host", 10}, {"cur/200.b.host:2,S", 20}, {"new/300.c.host", 30}};
}

}  // namespace

TEST_CASE("pop3d: STAT, LIST and UIDL") {
  FakeOps ops;
  Pop3d p(three(), ops);
  CHECK(Pop3d::greeting() == "+OK \r\n");
  CHECK(p.command("STAT").reply == "+OK 3 60\r\n");
  CHECK(p.command("stat").reply == "+OK 3 60\r\n");
  CHECK(p.command("LIST").reply == "+OK \r\n1 10\r\n2 20\r\n3 30\r\n.\r\n");
  CHECK(p.command("LIST 2").reply == "+OK 2 20\r\n");
  CHECK(p.command("LIST 2\r").reply == "+OK 2 20\r\n");
  CHECK(p.command("list   3").reply == "+OK 3 30\r\n");
  // UIDL: the name without new/ or cur/ and without the info part.
  CHECK(p.command("UIDL").reply == "+OK \r\n1 100.a.host\r\n2 200.b.host\r\n3 300.c.host\r\n.\r\n");
  CHECK(p.command("UIDL 2").reply == "+OK 2 200.b.host\r\n");
}

TEST_CASE("pop3d: message numbers") {
  FakeOps ops;
  Pop3d p(three(), ops);
  CHECK(p.command("LIST 0").reply == "-ERR messages are counted from 1\r\n");
  CHECK(p.command("LIST 4").reply == "-ERR not that many messages\r\n");
  CHECK(p.command("LIST x").reply == "-ERR syntax error\r\n");
  CHECK(p.command("LIST -1").reply == "-ERR syntax error\r\n");
  CHECK(p.command("LIST 1x").reply == "-ERR syntax error\r\n");
  CHECK(p.command("RETR").reply == "-ERR syntax error\r\n");
  // 2^64 + 1 would wrap to 1 in qmail's scan_ulong: here it is just too large.
  CHECK(p.command("RETR 18446744073709551617").reply == "-ERR not that many messages\r\n");
  CHECK(p.command("DELE 99999999999999999999999999999").reply == "-ERR not that many messages\r\n");
  CHECK(p.command("RETR 4294967297").reply == "-ERR not that many messages\r\n");
  CHECK(p.command("STAT").reply == "+OK 3 60\r\n");
}

TEST_CASE("pop3d: RETR and TOP ask the driver to stream") {
  FakeOps ops;
  Pop3d p(three(), ops);
  Action a = p.command("RETR 2");
  CHECK(a.reply == "+OK \r\n");
  CHECK(a.blast == 1);
  CHECK(a.limit == 0);
  CHECK(p.command("RETR 2 5").limit == 0);  // RETR is always the whole message
  CHECK(p.command("TOP 1 0").limit == 1);
  CHECK(p.command("TOP 1 5").limit == 6);
  CHECK(p.command("TOP 1   5").limit == 6);
  // qmail's quirks: TOP without a count, or with junk, sends everything.
  CHECK(p.command("TOP 1").limit == 0);
  CHECK(p.command("TOP 1 x").limit == 0);
  CHECK(p.command("TOP 1 99999999999999999999999").limit == 0);
  CHECK(p.command("TOP 1 18446744073709551615").limit == 0);
  CHECK(p.command("TOP").reply == "-ERR syntax error\r\n");
  CHECK(p.command("TOP x 1").reply == "-ERR syntax error\r\n");
  CHECK(p.command("TOP 0 1").reply == "-ERR messages are counted from 1\r\n");
  CHECK(p.command("TOP 9 1").blast == -1);
}

TEST_CASE("pop3d: DELE, LAST and RSET") {
  FakeOps ops;
  Pop3d p(three(), ops);
  CHECK(p.command("LAST").reply == "+OK 0\r\n");
  CHECK(p.command("DELE 2").reply == "+OK \r\n");
  CHECK(p.command("DELE 2").reply == "-ERR already deleted\r\n");
  CHECK(p.command("RETR 2").reply == "-ERR already deleted\r\n");
  CHECK(p.command("LIST 2").reply == "-ERR already deleted\r\n");
  CHECK(p.command("LAST").reply == "+OK 2\r\n");
  // STAT and LIST count only undeleted messages (RFC 1939).
  CHECK(p.command("STAT").reply == "+OK 2 40\r\n");
  CHECK(p.command("LIST").reply == "+OK \r\n1 10\r\n3 30\r\n.\r\n");
  CHECK(p.command("UIDL").reply == "+OK \r\n1 100.a.host\r\n3 300.c.host\r\n.\r\n");
  CHECK(p.command("DELE 1").reply == "+OK \r\n");
  CHECK(p.command("LAST").reply == "+OK 2\r\n");  // LAST only grows
  CHECK(p.command("RSET").reply == "+OK \r\n");
  CHECK(p.command("LAST").reply == "+OK 0\r\n");
  CHECK(p.command("STAT").reply == "+OK 3 60\r\n");
  CHECK(ops.log.empty());  // nothing touched before QUIT
}

TEST_CASE("pop3d: qmail's STAT counts deleted messages when asked") {
  FakeOps ops;
  Pop3d p(three(), ops, Pop3dOptions{true, true});
  p.command("DELE 1");
  CHECK(p.command("STAT").reply == "+OK 3 50\r\n");
}

TEST_CASE("pop3d: QUIT unlinks deleted and moves new to cur") {
  FakeOps ops;
  Pop3d p(three(), ops);
  p.command("DELE 3");
  Action a = p.command("QUIT");
  CHECK(a.reply == "+OK \r\n");
  CHECK(a.quit);
  CHECK(ops.log == std::vector<std::string>{"rename new/100.a.host cur/100.a.host:2,",
                                            "unlink new/300.c.host"});
  CHECK(p.command("STAT").reply.empty());  // nothing after QUIT
}

TEST_CASE("pop3d: QUIT reports a failed unlink") {
  FakeOps ops;
  ops.fail = "cur/200.b.host:2,S";
  Pop3d p(three(), ops);
  p.command("DELE 2");
  CHECK(p.command("QUIT").reply == "-ERR unable to unlink all deleted messages\r\n+OK \r\n");
}

TEST_CASE("pop3d: other commands") {
  FakeOps ops;
  Pop3d p(three(), ops);
  CHECK(p.command("NOOP").reply == "+OK \r\n");
  CHECK(p.command("USER joe").reply == "-ERR unimplemented\r\n");
  CHECK(p.command("PASS x").reply == "-ERR unimplemented\r\n");
  CHECK(p.command("").reply == "-ERR unimplemented\r\n");
  CHECK(p.command("XTND").reply == "-ERR unimplemented\r\n");
  std::string capa = p.command("CAPA").reply;
  CHECK(capa.rfind("+OK", 0) == 0);
  CHECK(capa.find("\r\nUIDL\r\n") != std::string::npos);
  CHECK(capa.find("\r\nTOP\r\n") != std::string::npos);
  CHECK(capa.substr(capa.size() - 3) == ".\r\n");
  Pop3d q(three(), ops, Pop3dOptions{false, false});
  CHECK(q.command("CAPA").reply == "-ERR unimplemented\r\n");
}

TEST_CASE("pop3d: an empty mailbox") {
  FakeOps ops;
  Pop3d p({}, ops);
  CHECK(p.command("STAT").reply == "+OK 0 0\r\n");
  CHECK(p.command("LIST").reply == "+OK \r\n.\r\n");
  CHECK(p.command("RETR 1").reply == "-ERR not that many messages\r\n");
  CHECK(p.command("QUIT").reply == "+OK \r\n");
}
