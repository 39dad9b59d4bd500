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

TEST_CASE("popup: no certificate, no STLS (as before)") {
  Popup p("h", 1, 2);
  CHECK(p.command("CAPA").reply ==
        "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nIMPLEMENTATION evqmail\r\n.\r\n");
  PopupAction a = p.command("STLS");
  CHECK(a.reply == "-ERR TLS not available\r\n");
  CHECK_FALSE(a.start_tls);
}

TEST_CASE("popup: STLS offered, accepted once, state starts afresh") {
  PopupTls tls;
  tls.available = true;
  Popup p("h", 1, 2, true, tls);
  CHECK(p.command("CAPA").reply.find("\r\nSTLS\r\n") != std::string::npos);
  CHECK(p.command("CAPA").reply.find("\r\nUSER\r\n") != std::string::npos);
  CHECK(p.command("USER joe").reply == "+OK \r\n");
  CHECK(p.command("STLS now").reply == "-ERR syntax error\r\n");
  PopupAction a = p.command("stls");
  CHECK(a.start_tls);
  CHECK(a.reply == "+OK begin TLS negotiation\r\n");
  p.tls_started();
  CHECK(p.command("PASS x").reply == "-ERR USER first\r\n");
  CHECK(p.command("CAPA").reply.find("STLS") == std::string::npos);
  a = p.command("STLS");
  CHECK_FALSE(a.start_tls);
  CHECK(a.reply == "-ERR TLS already active\r\n");
}

TEST_CASE("popup: FORCETLS (the default with a certificate) refuses logins until TLS runs") {
  PopupTls tls;
  tls.available = true;
  tls.force = true;
  Popup p("h", 1, 2, true, tls);
  CHECK_FALSE(p.login_allowed());
  CHECK(p.command("CAPA").reply.find("USER") == std::string::npos);
  CHECK(p.command("USER joe").reply == "-ERR TLS required: use STLS first\r\n");
  CHECK(p.command("PASS x").reply == "-ERR TLS required: use STLS first\r\n");
  CHECK(p.command("APOP joe 0123").reply == "-ERR TLS required: use STLS first\r\n");
  CHECK_FALSE(p.command("APOP joe 0123").authenticate);
  p.tls_started();
  CHECK(p.login_allowed());
  CHECK(p.command("CAPA").reply.find("\r\nUSER\r\n") != std::string::npos);
  CHECK(p.command("USER joe").reply == "+OK \r\n");
  CHECK(p.command("PASS x").authenticate);
  // A tree without a certificate ignores FORCETLS: old installs keep working.
  tls.available = false;
  CHECK(Popup("h", 1, 2, true, tls).command("USER joe").reply == "+OK \r\n");
}
