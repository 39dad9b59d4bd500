// Control-file reading (see control.h).
#include "reactor/control.h"

#include "reactor/fd.h"

namespace reactor {

std::string_view strip_trailing_blanks(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string parse_control_line(std::string_view text) {
  size_t nl = text.find('\n');
  return std::string(strip_trailing_blanks(text.substr(0, nl)));
}

std::vector<std::string> parse_control_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = strip_trailing_blanks(line);
    if (line.empty() || line[0] == '#') continue;
    out.emplace_back(line);
  }
  return out;
}

namespace {
// Reads the file, mapping "missing" to nullopt.
Result<std::optional<std::string>> read_optional(const std::string& path) {
  auto r = read_file(path, 16u << 20);
  if (r) return std::optional<std::string>(std::move(*r));
  if (!r.error().temporary && r.error().text == "ENOENT") return std::optional<std::string>();
  return r.error();
}
}  // namespace

Result<std::optional<std::string>> control_line(const std::string& path) {
  auto r = read_optional(path);
  if (!r) return r.error();
  if (!*r) return std::optional<std::string>();
  return std::optional<std::string>(parse_control_line(**r));
}

Result<std::optional<std::vector<std::string>>> control_list(const std::string& path) {
  auto r = read_optional(path);
  if (!r) return r.error();
  if (!*r) return std::optional<std::vector<std::string>>();
  return std::optional<std::vector<std::string>>(parse_control_list(**r));
}

Result<std::optional<unsigned long>> control_number(const std::string& path) {
  auto r = control_line(path);
  if (!r) return r.error();
  if (!*r) return std::optional<unsigned long>();
  const std::string& s = **r;
  // qmail's scan_ulong reads leading digits; a file with no digits is an error here
  // rather than a silent zero (a typo must not turn a limit into "hold everything").
  size_t i = 0;
  unsigned long v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    unsigned long d = static_cast<unsigned long>(s[i] - '0');
    if (v > (~0UL - d) / 10) return temp_error("number too large in " + path);
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return temp_error("unable to parse number in " + path + ": " + s);
  return std::optional<unsigned long>(v);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace reactor
