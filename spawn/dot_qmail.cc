// .qmail parsing and file-finding rules (see dot_qmail.h).
#include "spawn/dot_qmail.h"

namespace spawn {

const char* to_string(LineKind k) {
  switch (k) {
    case LineKind::comment: return "comment";
    case LineKind::program: return "program";
    case LineKind::maildir: return "maildir";
    case LineKind::mbox: return "mbox";
    case LineKind::forward: return "forward";
    case LineKind::fail: return "fail";
  }
  return "?";
}

std::vector<Instruction> parse_dot_qmail(std::string_view text, bool forward_only) {
  std::vector<Instruction> out;
  size_t start = 0;
  bool first = true;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    // qmail handles lines as C strings: a NUL ends the line early.
    if (size_t z = line.find('\0'); z != std::string_view::npos) line = line.substr(0, z);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    bool was_first = first;
    first = false;
    if (line.empty()) {
      if (was_first) {
        out.push_back({LineKind::fail, "Uh-oh: first line of .qmail file is blank. (#4.2.1)"});
        return out;
      }
      continue;
    }
    switch (line[0]) {
      case '#':
        out.push_back({LineKind::comment, std::string(line)});
        break;
      case '.':
      case '/':
        if (forward_only) {
          out.push_back({LineKind::fail, "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"});
          return out;
        }
        out.push_back({line.back() == '/' ? LineKind::maildir : LineKind::mbox, std::string(line)});
        break;
      case '|':
        if (forward_only) {
          out.push_back({LineKind::fail, "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"});
          return out;
        }
        out.push_back({LineKind::program, std::string(line.substr(1))});
        break;
      case '+':
        // [QUIRK] `+list` switches on forward-only mode for the lines after it.
        if (line == "+list") forward_only = true;
        out.push_back({LineKind::comment, std::string(line)});
        break;
      case '&':
        out.push_back({LineKind::forward, std::string(line.substr(1))});
        break;
      default:
        // Any other first character: the whole line is an address.
        out.push_back({LineKind::forward, std::string(line)});
        break;
    }
  }
  return out;
}

std::string safe_ext(std::string_view ext) {
  std::string s(ext);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') c = ':';
  }
  return s;
}

std::vector<Candidate> qmail_candidates(std::string_view dash, std::string_view ext) {
  std::string safe = safe_ext(ext);
  std::string base = ".qmail" + std::string(dash);
  std::vector<Candidate> out;
  Candidate exact{base + safe, std::nullopt};
  // An exact name that itself ends in "default" still sets DEFAULT.
  if (safe.size() >= 7 && safe.compare(safe.size() - 7, 7, "default") == 0)
    exact.default_at = safe.size() - 7;
  out.push_back(std::move(exact));
  for (size_t i = safe.size() + 1; i-- > 0;) {
    if (i == 0 || safe[i - 1] == '-')
      out.push_back({base + safe.substr(0, i) + "default", i});
  }
  return out;
}

std::string qmail_owner_name(std::string_view dash, std::string_view ext, std::string_view suffix) {
  return ".qmail" + std::string(dash) + safe_ext(ext) + std::string(suffix);
}

}  // namespace spawn
