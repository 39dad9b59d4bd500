// TAI64N labels and line logging (see log.h).
#include "reactor/log.h"

#include <sys/time.h>
#include <unistd.h>

#include "reactor/fd.h"

namespace reactor {

namespace {
// daemontools' tai_unix: TAI64 counts from 2^62, and it assumes TAI - UTC was
// 10 seconds at the UNIX epoch, ignoring later leap seconds (as multilog does).
constexpr std::uint64_t kTaiBase = (std::uint64_t{1} << 62) + 10;

void put_hex(std::string& out, std::uint64_t v, int digits) {
  static const char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += hex[(v >> (4 * i)) & 15];
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::uint64_t tai64_of_unix(std::int64_t unix_seconds) {
  return kTaiBase + static_cast<std::uint64_t>(unix_seconds);
}

std::string tai64n_label(std::int64_t unix_seconds, long nanoseconds) {
  std::string s;
  s.reserve(25);
  s += '@';
  put_hex(s, tai64_of_unix(unix_seconds), 16);
  put_hex(s, static_cast<std::uint64_t>(nanoseconds), 8);
  return s;
}

std::string tai64n_now() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  return tai64n_label(tv.tv_sec, 1000L * tv.tv_usec + 500);
}

bool parse_tai64n(std::string_view label, std::int64_t& unix_seconds, long& nanoseconds) {
  if (label.size() != 25 || label[0] != '@') return false;
  std::uint64_t sec = 0, nano = 0;
  for (size_t i = 1; i < 25; ++i) {
    int h = hex_value(label[i]);
    if (h < 0) return false;
    if (i <= 16) sec = (sec << 4) | static_cast<unsigned>(h);
    else nano = (nano << 4) | static_cast<unsigned>(h);
  }
  if (nano >= 1000000000u) return false;
  unix_seconds = static_cast<std::int64_t>(sec - kTaiBase);
  nanoseconds = static_cast<long>(nano);
  return true;
}

std::string LineLogger::format(std::string_view text) const {
  std::string out;
  out.reserve(text.size() + prefix_.size() + 27);
  if (stamp_) {
    out += tai64n_now();
    out += ' ';
  }
  out += prefix_;
  out += text;
  out += '\n';
  return out;
}

bool LineLogger::line(std::string_view text) const { return write_all(fd_, format(text)); }

std::string fatal_text(std::string_view prog, std::string_view text) {
  std::string s(prog);
  s += ": fatal: ";
  s += text;
  return s;
}

void fatal(std::string_view prog, std::string_view text) {
  write_all(2, fatal_text(prog, text) + "\n");
}

void warning(std::string_view prog, std::string_view text) {
  std::string s(prog);
  s += ": warning: ";
  s += text;
  s += '\n';
  write_all(2, s);
}

void die(int code, std::string_view prog, std::string_view text) {
  fatal(prog, text);
  _exit(code);
}

}  // namespace reactor
