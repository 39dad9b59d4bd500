// Unit tests of qmail-popup's authorization state.
#include "pop3/popup.h"

#include <doctest/doctest.h>

using namespace pop3;

TEST_CASE("popup: greeting and APOP timestamp") {
  Popup p("mail.example", 1234, 1700000000);
  CHECK(p.timestamp() == "<1234.1700000000@mail.example>");
  CHECK(p.greeting() == "+OK <1234.1700000000@mail.example>\r\n");
}

TEST_CASE("popup: commands before authentication") {
  Popup p("h", 1, 2);
  CHECK(p.command("STAT").reply == "-ERR authorization first\r\n");
  CHECK(p.command("RETR 1").reply == "-ERR authorization first\r\n");
  CHECK(p.command("LIST").reply == "-ERR authorization first\r\n");
  CHECK(p.command("DELE 1").reply == "-ERR authorization first\r\n");
  CHECK(p.command("").reply == "-ERR authorization first\r\n");
  CHECK(p.command("NOOP").reply == "+OK \r\n");
  CHECK(p.command("PASS secret").reply == "-ERR USER first\r\n");
  CHECK(p.command("USER").reply == "-ERR syntax error\r\n");
  CHECK(p.command("APOP joe").reply == "-ERR syntax error\r\n");
  CHECK(p.command("CAPA").reply.find("\r\nUSER\r\n") != std::string::npos);
  CHECK(Popup("h", 1, 2, false).command("CAPA").reply == "-ERR authorization first\r\n");
}

TEST_CASE("popup: USER and PASS") {
  Popup p("h", 1, 2);
  CHECK(p.command("user joe").reply == "+OK \r\n");
  CHECK(p.command("USER fred\r").reply == "+OK \r\n");  // the last USER wins
  CHECK(p.command("PASS").reply == "-ERR syntax error\r\n");
  PopupAction a = p.command("PASS my secret");
  CHECK(a.authenticate);
  CHECK(a.reply.empty());
  CHECK(a.user == "fred");
  CHECK(a.pass == "my secret");
}

TEST_CASE("popup: APOP and QUIT") {
  Popup p("h", 1, 2);
  PopupAction a = p.command("APOP joe c4c9334bac560ecc979e58001b3e22fb");
  CHECK(a.authenticate);
  CHECK(a.user == "joe");
  CHECK(a.pass == "c4c9334bac560ecc979e58001b3e22fb");
  PopupAction q = p.command("QUIT");
  CHECK(q.quit);
  CHECK(q.reply == "+OK \r\n");
}

TEST_CASE("popup: the checkpassword block") {
  using namespace std::string_literals;
  CHECK(checkpassword_input("joe", "pw", "<1.2@h>") == "joe\0pw\0<1.2@h>\0"s);
}

TEST_CASE("popup: a NUL ends the command, so no field reaches checkpassword with one") {
  using namespace std::string_literals;
  Popup p("h", 1, 2);
  PopupAction a = p.command("APOP joe c4c9334bac560ecc979e58001b3e22fb\0<99.1@h>"s);
  CHECK(a.authenticate);
  CHECK(a.pass == "c4c9334bac560ecc979e58001b3e22fb");
  CHECK(checkpassword_input(a.user, a.pass, p.timestamp()) == "joe\0c4c9334bac560ecc979e58001b3e22fb\0<1.2@h>\0"s);
  CHECK(p.command("USER joe\0x"s).reply == "+OK \r\n");
  PopupAction b = p.command("PASS pw\0<99.1@h>"s);
  CHECK(b.user == "joe");
  CHECK(b.pass == "pw");
  CHECK(p.command("USER \0joe"s).reply == "-ERR syntax error\r\n");
}
