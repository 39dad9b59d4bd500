#pragma once
// POP3 command lines as qmail's commands.c splits them (verb up to the first
// space, argument after any run of spaces) and the message-number scanner of
// qmail-pop3d(8), hardened against overflow.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pop3 {

/// One command line: the verb in lower case and the raw argument.
struct Command {
  std::string verb;
  std::string_view arg;
};

/// Splits `line` (without LF; a trailing CR is removed) into verb and argument.
Command parse_command(std::string_view line);

/// Result of scanning a decimal number at the start of a string.
struct Number {
  uint64_t value = 0;
  size_t digits = 0;      ///< digits consumed (0: no number)
  bool overflow = false;  ///< more than 64 bits; value is then UINT64_MAX
};

/// Scans leading decimal digits (no sign, no spaces), as scan_ulong but saturating.
Number scan_number(std::string_view s);

}  // namespace pop3
