#pragma once
// .qmail files as qmail-local(8) and dot-qmail(5) read them: which file
// controls an address (safeext, exact then -default candidates, DEFAULT) and
// what its lines mean. Pure: no files, no processes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spawn {

/// What one .qmail line asks for.
enum class LineKind {
  comment,  ///< `#...` (also `+...` lines, which are ignored)
  program,  ///< `|command`: arg is the command for /bin/sh -c
  maildir,  ///< `./dir/` or `/dir/`: arg is the directory (with its slash)
  mbox,     ///< `./file` or `/file`: arg is the file
  forward,  ///< `&address` or a bare address: arg is the address
  fail,     ///< not a line: the file is unusable here; arg is the temporary-failure text
};

/// One parsed instruction; `fail` always ends the list.
struct Instruction {
  LineKind kind = LineKind::comment;
  std::string arg;
};

/// Readable name of a kind, as `qmail-local -n` prints it ("maildir", ...).
const char* to_string(LineKind k);

/// Parses the instructions of a .qmail file (or of defaultdelivery). Trailing
/// blanks are cut, a blank first line fails, later blank lines are skipped;
/// `forward_only` (owner-execute bit, or a `+list` line) makes a later
/// program/file line fail. Parsing stops at the first `fail`.
std::vector<Instruction> parse_dot_qmail(std::string_view text, bool forward_only);

/// `ext` lowercased with every `.` turned into `:` (FAQ 4.6).
std::string safe_ext(std::string_view ext);

/// One file name to try, and where DEFAULT starts in the original ext if it is chosen.
struct Candidate {
  std::string name;                ///< relative to the home directory, e.g. ".qmail-a-default"
  std::optional<size_t> default_at;  ///< set: DEFAULT = ext.substr(*default_at)
};

/// The names to try, in order, for `dash` and `ext` (section 3.3), including
/// the `.qmaildefault` quirk when both are empty.
std::vector<Candidate> qmail_candidates(std::string_view dash, std::string_view ext);

/// `.qmail<dash><safeext><suffix>`, the names checked for -owner files (3.7).
std::string qmail_owner_name(std::string_view dash, std::string_view ext, std::string_view suffix);

}  // namespace spawn
