// serialsmtp prefix helohost [do-not-quit]: sends the maildir files named on
// stdin to the SMTP server on fd 6/7 (under tcpclient), one report per file
// on stdout (serialmail 0.75; spec/serialmail.md 3).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "reactor/fd.h"
#include "smtp/serial_io.h"
#include "smtp/serial_smtp.h"

namespace {
[[noreturn]] void die(int code, const std::string& text) {
  std::fprintf(stderr, "serialsmtp: fatal: %s\n", text.c_str());
  std::exit(code);
}
}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 3) {
    std::fprintf(stderr, "serialsmtp: usage: serialsmtp prefix helohost\n");
    return 100;
  }
  smtp::FdPeer peer(6, 7, 81, 73);
  smtp::SerialSmtp session(peer, argv[1], argv[2], std::getenv("TCPREMOTEIP"));
  if (auto s = session.greet(); !s) die(111, s.error().text);
  std::string names;
  for (;;) {
    auto fn = smtp::read_name(0, names);
    if (!fn) die(111, fn.error().text);
    if (!*fn) break;
    auto file = reactor::read_file(**fn);
    if (!file) die(111, "unable to open " + **fn + ": " + file.error().text);
    auto rep = session.deliver(**fn, *file);
    if (!rep) die(111, rep.error().text);
    if (*rep && !reactor::write_all(1, **rep)) die(111, "unable to write output: " + reactor::errno_text(errno));
  }
  // A third argument keeps the connection open for a following client.
  if (argc < 4) session.quit();
  return 0;
}
