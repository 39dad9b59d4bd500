// POP3 command splitting and number scanning (see command.h).
#include "pop3/command.h"

namespace pop3 {

Command parse_command(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // A command ends at a NUL, as qmail's C strings do: nothing after one may
  // reach the checkpassword block, where NUL separates the fields (an APOP
  // digest followed by "\0<old timestamp>" would replay an old login).
  line = line.substr(0, line.find('\0'));
  Command c;
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  c.verb.reserve(verb.size());
  for (char ch : verb) c.verb += (ch >= 'A' && ch <= 'Z') ? char(ch - 'A' + 'a') : ch;
  if (sp != std::string_view::npos) {
    std::string_view arg = line.substr(sp);
    while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
    c.arg = arg;
  }
  return c;
}

Number scan_number(std::string_view s) {
  Number n;
  for (char ch : s) {
    if (ch < '0' || ch > '9') break;
    ++n.digits;
    uint64_t d = uint64_t(ch - '0');
    if (n.overflow) continue;
    if (n.value > (UINT64_MAX - d) / 10) {
      // qmail's scan_ulong wraps here; a wrapped number could name message 1.
      n.overflow = true;
      n.value = UINT64_MAX;
      continue;
    }
    n.value = n.value * 10 + d;
  }
  return n;
}

}  // namespace pop3
