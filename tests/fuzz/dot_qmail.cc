// The .qmail interpreter (spawn/dot_qmail.h): which file controls an
// address, and what its lines ask for.
//
// Input: one byte of choices (bit 0: forward-only, the owner-execute bit;
// bit 1: a dash; bit 2: a trailing newline added), then the address
// extension up to the first NUL, then the text of a .qmail file.
// Invariants, beyond "no crash":
//   - the instructions are those of a reference reading of dot-qmail(5):
//     lines cut at a NUL and of trailing blanks, a blank first line fails,
//     later blank lines are skipped, `#` comments, `|` programs, `.` or `/`
//     files (a maildir when the line ends in `/`), `&` or anything else a
//     forward; a forward-only file, or one after `+list`, fails at the first
//     program or file line; nothing follows a failure;
//   - no argument holds a newline or a NUL, or ends in a blank;
//   - reading the first lines of a file gives a prefix of what the whole
//     file gives, and a final newline after a last line changes nothing;
//   - safe_ext() keeps the length, lowercases, turns every '.' into ':' and
//     changes nothing else; applying it twice changes nothing more;
//   - the candidate files are the exact name, then each "-default" name from
//     the longest prefix ending in '-' to the shortest, DEFAULT within the
//     extension; no name starts with '/' or holds a ".." path component, so
//     an extension from the network never names a file outside the home.

#include <optional>
#include <string>
#include <vector>

#include "spawn/dot_qmail.h"
#include "tests/fuzz/fuzz.h"

namespace {

using spawn::Instruction;
using spawn::LineKind;

std::vector<Instruction> reference(std::string_view text, bool forward_only) {
  std::vector<Instruction> out;
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string l = lines[n].substr(0, lines[n].find('\0'));
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
    if (l.empty()) {
      if (n == 0) {
        out.push_back({LineKind::fail, "blank"});
        return out;
      }
      continue;
    }
    char c = l[0];
    if (c == '#' || c == '+') {
      if (l == "+list") forward_only = true;
      out.push_back({LineKind::comment, l});
    } else if (c == '.' || c == '/' || c == '|') {
      if (forward_only) {
        out.push_back({LineKind::fail, "x bit"});
        return out;
      }
      if (c == '|') out.push_back({LineKind::program, l.substr(1)});
      else out.push_back({l.back() == '/' ? LineKind::maildir : LineKind::mbox, l});
    } else {
      out.push_back({LineKind::forward, c == '&' ? l.substr(1) : l});
    }
  }
  return out;
}

bool same(const std::vector<Instruction>& a, const std::vector<Instruction>& b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i].kind != b[i].kind) return false;
    if (a[i].kind != LineKind::fail && a[i].arg != b[i].arg) return false;
  }
  return true;
}

void check_instructions(std::string_view text, bool forward_only) {
  std::vector<Instruction> got = spawn::parse_dot_qmail(text, forward_only);
  std::vector<Instruction> want = reference(text, forward_only);
  FUZZ_CHECK(got.size() == want.size() && same(got, want, got.size()), "instructions the reference does not read");
  for (size_t i = 0; i < got.size(); ++i) {
    const Instruction& in = got[i];
    if (in.kind == LineKind::fail) {
      FUZZ_CHECK(i + 1 == got.size(), "an instruction after a failure");
      FUZZ_CHECK(in.arg.find("(#4.") != std::string::npos, "a failure that is not temporary");
      continue;
    }
    FUZZ_CHECK(in.arg.find('\n') == std::string::npos && in.arg.find('\0') == std::string::npos,
               "a newline or NUL in an instruction");
    FUZZ_CHECK(in.arg.empty() || (in.arg.back() != ' ' && in.arg.back() != '\t'), "a trailing blank kept");
    if (forward_only)
      FUZZ_CHECK(in.kind == LineKind::comment || in.kind == LineKind::forward, "a delivery in a forward-only file");
  }
  // The first lines read alone give a prefix of the whole.
  for (size_t nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n', nl + 1)) {
    std::vector<Instruction> head = spawn::parse_dot_qmail(text.substr(0, nl + 1), forward_only);
    FUZZ_CHECK(head.size() <= got.size() && same(head, got, head.size()), "a file's first lines read differently");
    if (nl > 64) break;  // enough: keep each input quick
  }
  if (!text.empty() && text.back() != '\n') {  // (an empty file and a blank line differ)
    std::string with(text);
    with += '\n';
    std::vector<Instruction> w = spawn::parse_dot_qmail(with, forward_only);
    FUZZ_CHECK(w.size() == got.size() && same(w, got, w.size()), "a final newline changed the instructions");
  }
}

void check_names(std::string_view dash, std::string_view ext) {
  std::string safe = spawn::safe_ext(ext);
  FUZZ_CHECK(safe.size() == ext.size(), "safe_ext() changed the length");
  for (size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i], s = safe[i];
    char want = c == '.' ? ':' : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    FUZZ_CHECK(s == want, "safe_ext() changed a byte it should keep, or kept one it should change");
  }
  FUZZ_CHECK(spawn::safe_ext(safe) == safe, "safe_ext() is not idempotent");
  const std::string base = ".qmail" + std::string(dash);
  std::vector<spawn::Candidate> c = spawn::qmail_candidates(dash, ext);
  FUZZ_CHECK(!c.empty() && c[0].name == base + safe, "the exact name is not tried first");
  size_t last = std::string::npos;
  for (size_t i = 1; i < c.size(); ++i) {
    FUZZ_CHECK(c[i].default_at.has_value(), "a -default name without DEFAULT");
    size_t at = *c[i].default_at;
    FUZZ_CHECK(at <= ext.size() && (at == 0 || safe[at - 1] == '-'), "DEFAULT not after a '-'");
    FUZZ_CHECK(last == std::string::npos || at < last, "-default names out of order");
    last = at;
    FUZZ_CHECK(c[i].name == base + safe.substr(0, at) + "default", "a -default name misspelled");
  }
  size_t dashes = 1;
  for (char ch : safe) dashes += ch == '-';
  FUZZ_CHECK(c.size() == 1 + dashes, "a -default name missing or extra");
  if (c[0].default_at) FUZZ_CHECK(*c[0].default_at + 7 == safe.size(), "DEFAULT of an exact name ending in default");
  for (const spawn::Candidate& k : c) {
    FUZZ_CHECK(k.name.compare(0, 6, ".qmail") == 0 && k.name[0] != '/', "a name outside the home directory");
    std::string_view n = k.name;
    for (size_t at = 0; at <= n.size();) {
      size_t sl = n.find('/', at);
      if (sl == std::string_view::npos) sl = n.size();
      FUZZ_CHECK(n.substr(at, sl - at) != "..", "a \"..\" component in a .qmail name");
      at = sl + 1;
    }
  }
  FUZZ_CHECK(spawn::qmail_owner_name(dash, ext, "-owner") == base + safe + "-owner", "the owner file misnamed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t choice = in.byte();
  std::string_view all = in.rest();
  size_t z = all.find('\0');
  std::string_view ext = all.substr(0, z == std::string_view::npos ? all.size() : z);
  std::string text(z == std::string_view::npos ? std::string_view() : all.substr(z + 1));
  if (choice & 4) text += '\n';
  check_instructions(text, choice & 1);
  check_names(choice & 2 ? "-" : "", ext);
  return 0;
}
