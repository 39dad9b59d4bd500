#pragma once
// qmail-pw2u(8): turns a V7 passwd file into users/assign lines by
// qmail-getpw's rules, adjusted by users/include, exclude, mailnames,
// subusers and append (tools.md 2).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"
#include "spawn/getpw.h"

namespace spawn {

/// Command-line settings of qmail-pw2u.
struct Pw2uOptions {
  int home_strategy = 2;        ///< 2 (-o) skip missing homes; 1 (-h) stop; 0 (-H) do not check
  bool no_upper = true;         ///< -U (default) skips names with uppercase letters; -u allows them
  char brk = '-';               ///< -cX extension separator; '\0' (-C) means no extensions
  std::string dash_colon = "-:";  ///< "-/:" with -/ (.qmail files in ~/.qmail-/)
};

/// Parses qmail-pw2u's options; false on an unknown option (exit 100).
bool parse_pw2u_options(int argc, char** argv, Pw2uOptions& o);

/// The optional files of QMAILHOME/users (nullopt when missing).
struct Pw2uFiles {
  std::optional<std::vector<std::string>> include, exclude, mailnames;  ///< control-list syntax
  std::optional<std::string> subusers, append;                         ///< raw text
};

/// Reads users/include, exclude, mailnames, subusers, append from the current directory.
reactor::Result<Pw2uFiles> read_pw2u_files();

/// Converts `passwd` to users/assign text (always ending in ".\n").
/// Errors are temporary, with qmail-pw2u's fatal texts.
reactor::Result<std::string> pw2u(std::string_view passwd, const Pw2uOptions& o, const Pw2uFiles& f,
                                  PasswdDb& db);

}  // namespace spawn
