#pragma once
// Reading qmail control files: single-value files (first line only), list
// files (one entry a line, comments and blank lines skipped) and numbers,
// with qmail's rule that a missing file means "default" while an
// unreadable one is an error, never a silent default.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace reactor {

/// Strips trailing spaces and tabs (and a CR) from a control-file line.
std::string_view strip_trailing_blanks(std::string_view s);

/// Parses the text of a single-value file: the first line, trailing blanks removed.
std::string parse_control_line(std::string_view text);
/// Parses the text of a list file: trailing blanks stripped, empty lines and `#` lines skipped.
std::vector<std::string> parse_control_list(std::string_view text);

/// First line of `path`; nullopt if the file does not exist; Error if unreadable.
Result<std::optional<std::string>> control_line(const std::string& path);
/// All entries of list file `path`; nullopt if missing; Error if unreadable.
Result<std::optional<std::vector<std::string>>> control_list(const std::string& path);
/// Number from the first line; nullopt if missing; Error if unreadable or not a number.
Result<std::optional<unsigned long>> control_number(const std::string& path);

/// ASCII lower-casing, as qmail's case folding (no locale).
std::string lowercase(std::string_view s);

}  // namespace reactor
