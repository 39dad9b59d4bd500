// Header/body split and field names (see inject_header.h).
#include "queue/inject_header.h"

namespace queue {

namespace {

// Lower-case names in the order of enum Field (index 0 is unknown).
const char* const kNames[] = {
    "", "sender", "from", "reply-to", "to", "cc", "bcc", "date", "message-id", "subject",
    "resent-sender", "resent-from", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc",
    "resent-date", "resent-message-id", "return-receipt-to", "errors-to", "apparently-to",
    "received", "return-path", "delivered-to", "content-length", "content-type",
    "content-transfer-encoding", "notice-requested-upon-delivery-to", "mail-followup-to"};
static_assert(sizeof kNames / sizeof kNames[0] == static_cast<size_t>(Field::count));

// hmatch: the name (ASCII letters in either case), optional blanks, then a colon.
bool name_matches(std::string_view s, std::string_view name) {
  size_t i = 0;
  for (; i < name.size(); ++i) {
    if (i >= s.size()) return false;
    char c = name[i];
    if (c != s[i] && !(c >= 'a' && c <= 'z' && c - 32 == s[i])) return false;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == ':') return true;
    if (s[i] != ' ' && s[i] != '\t') return false;
  }
  return false;
}

}  // namespace

Field field_kind(std::string_view field) {
  for (size_t i = 1; i < static_cast<size_t>(Field::count); ++i)
    if (name_matches(field, kNames[i])) return static_cast<Field>(i);
  return Field::unknown;
}

bool field_valid(std::string_view field) {
  size_t j = field.find(':');
  if (j == std::string_view::npos) return false;
  while (j && (field[j - 1] == ' ' || field[j - 1] == '\t')) --j;
  if (!j) return false;
  for (size_t i = 0; i < j; ++i) {
    unsigned char c = static_cast<unsigned char>(field[i]);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

SplitMessage split_message(std::string_view input) {
  SplitMessage m;
  size_t pos = 0;
  // Next line including its "\n" (added when the input ends without one).
  auto next_line = [&](std::string& line) {
    if (pos >= input.size()) return false;
    size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) {
      line.assign(input.substr(pos));
      line += '\n';
      pos = input.size();
    } else {
      line.assign(input.substr(pos, nl + 1 - pos));
      pos = nl + 1;
    }
    return true;
  };
  std::string line, field;
  bool have_field = false;
  bool in_header = true;
  while (in_header && next_line(line)) {
    if (have_field && (line[0] == ' ' || line[0] == '\t')) {
      field += line;
      continue;
    }
    if (have_field) m.fields.push_back(std::move(field));
    have_field = false;
    if (line == "\n") {
      m.body = line;
      in_header = false;
    } else if (line.compare(0, 5, "From ") == 0) {
      field = "MBOX-Line: " + line;
      have_field = true;
    } else if (field_valid(line)) {
      field = line;
      have_field = true;
    } else {
      // Not a header line: the whole rest is body, after a blank line.
      m.body = "\n" + line;
      in_header = false;
    }
  }
  if (have_field) m.fields.push_back(std::move(field));
  while (next_line(line)) m.body += line;
  return m;
}

}  // namespace queue
