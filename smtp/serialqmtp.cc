// serialqmtp prefix: sends the maildir files named on stdin to the QMTP
// server on fd 6/7 (under tcpclient), one report per file on stdout
// (serialmail 0.75; spec/serialmail.md 3).
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "smtp/serial_qmtp.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::fprintf(stderr, "serialqmtp: usage: serialqmtp prefix\n");
    return 100;
  }
  auto s = smtp::run_serialqmtp(0, 1, 6, 7, argv[1], std::getenv("TCPREMOTEIP"));
  if (!s) {
    std::fprintf(stderr, "serialqmtp: fatal: %s\n", s.error().text.c_str());
    return 111;
  }
  return 0;
}
