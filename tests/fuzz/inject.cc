// qmail-inject's header handling (queue/inject.h, queue/inject_header.h,
// queue/rfc822.h): the header/body split, RFC 822 tokens, address-list
// rewriting and the envelope it yields.
//
// Input: one byte of choices (bits 0-1: -a/-h/-A/-H; bit 2: -f; bit 3: -n;
// bits 4-6: QMAILINJECT flags; bit 7: Mail-Followup-To lists), then the -f
// sender and up to three recipient arguments, each up to a NUL, then the
// message.
// Invariants, beyond "no crash":
//   - split_message(): the fields and the body rebuild the input, a final
//     newline added, a `From ` line read as an MBOX-Line field, and a blank
//     line put before a body that had none; each field is a valid first line
//     and continuation lines only;
//   - rfc822: a field that tokenizes comes back from unparse() as text that
//     tokenizes to the same tokens;
//   - a run is deterministic, and when it succeeds: the body passes through
//     unchanged; every header line of the result starts a field or continues
//     one (rewriting never starts a header line of its own); the envelope
//     sender and recipients hold no CR, LF or NUL, so qmail-queue takes the
//     envelope; and the result, injected again, is taken with its body.

#include <algorithm>
#include <string>
#include <vector>

#include "queue/inject.h"
#include "queue/queue_writer.h"
#include "tests/fuzz/fuzz.h"

namespace {

constexpr std::time_t kNow = 1605956160;

void check_split(std::string_view input, const queue::SplitMessage& m) {
  std::string orig(input);
  if (!orig.empty() && orig.back() != '\n') orig += '\n';
  size_t pos = 0;
  for (const std::string& f : m.fields) {
    FUZZ_CHECK(!f.empty() && f.back() == '\n', "a field without its newline");
    std::string_view first(f);
    first = first.substr(0, first.find('\n') + 1);
    bool mbox = f.compare(0, 16, "MBOX-Line: From ") == 0;
    FUZZ_CHECK(mbox || queue::field_valid(first), "a field that does not start as one");
    for (size_t nl = f.find('\n'); nl + 1 < f.size(); nl = f.find('\n', nl + 1))
      FUZZ_CHECK(f[nl + 1] == ' ' || f[nl + 1] == '\t', "a field line that is no continuation");
    if (orig.compare(pos, f.size(), f) == 0) {
      pos += f.size();
    } else {
      FUZZ_CHECK(mbox && orig.compare(pos, f.size() - 11, f, 11) == 0, "fields that do not rebuild the header");
      pos += f.size() - 11;
    }
  }
  std::string_view rest = std::string_view(orig).substr(pos);
  if (m.body == rest) {
    FUZZ_CHECK(rest.empty() || rest[0] == '\n', "a body without its blank line");
  } else {
    FUZZ_CHECK(m.body.size() == rest.size() + 1 && m.body[0] == '\n' && m.body.compare(1, rest.size(), rest) == 0,
               "a body that is not the rest of the input");
    FUZZ_CHECK(!rest.empty() && rest[0] != '\n', "a blank line added where one was");
  }
}

void check_tokens(const std::string& field) {
  auto t = queue::rfc822::parse(field);
  if (!t) return;
  std::string text = queue::rfc822::unparse(*t, 0);
  auto again = queue::rfc822::parse(text);
  FUZZ_CHECK(bool(again), "unparse() wrote what does not tokenize");
  FUZZ_CHECK(*again == *t, "unparse() wrote other tokens");
  std::string folded = queue::rfc822::unparse(*t, 20);
  auto f = queue::rfc822::parse(folded);
  FUZZ_CHECK(f.has_value() && *f == *t, "folding changed the tokens");
}

bool clean_address(std::string_view a) { return a.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

struct Args {
  queue::RecipMode mode;
  bool print;
  std::optional<std::string> sender;
  std::vector<std::string> rcpts;
  std::string flags;
  bool mft;
};

reactor::Result<queue::Injection> inject(const Args& a, std::string_view message) {
  queue::InjectEnv env;
  env.vars["USER"] = "joe";
  env.vars["NAME"] = "Joe Q. User";
  if (!a.flags.empty()) env.vars["QMAILINJECT"] = a.flags;
  queue::InjectControls c;
  c.me = "mail.example.org";
  c.defaultdomain = "example.org";
  c.plusdomain = "example.net";
  if (a.mft) c.mft = std::vector<std::string>{"list@example.org", "other@lists.example.com"};
  queue::Injector inj(env, c, kNow, 4242);
  if (auto st = inj.init(); !st) return st.error();
  inj.set_mode(a.mode);
  if (a.sender)
    if (auto st = inj.set_sender(*a.sender); !st) return st.error();
  for (const std::string& r : a.rcpts)
    if (auto st = inj.add_recipient(r); !st) return st.error();
  return inj.run(message, a.print);
}

/// The header lines of a result: everything before its body.
std::string_view header_of(std::string_view message, std::string_view body) {
  return message.substr(0, message.size() - body.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t choice = in.byte();
  Args a;
  const queue::RecipMode modes[4] = {queue::RecipMode::args, queue::RecipMode::header, queue::RecipMode::deflt,
                                     queue::RecipMode::both};
  a.mode = modes[choice & 3];
  if (choice & 4) a.sender = std::string(in.until('\0'));
  a.print = choice & 8;
  const char* flag_sets[8] = {"", "c", "s", "f", "i", "r", "m", "csfirm"};
  a.flags = flag_sets[(choice >> 4) & 7];
  a.mft = choice & 128;
  for (int i = 0, n = in.byte() % 4; i < n; ++i) a.rcpts.emplace_back(in.until('\0'));
  std::string_view message = in.rest();

  queue::SplitMessage m = queue::split_message(message);
  check_split(message, m);
  for (const std::string& f : m.fields) check_tokens(f);

  auto one = inject(a, message);
  auto two = inject(a, message);
  FUZZ_CHECK(bool(one) == bool(two), "a run that is not deterministic");
  if (!one) {
    FUZZ_CHECK(one.error().text == two.error().text, "a run that is not deterministic");
    return 0;
  }
  FUZZ_CHECK(one->message == two->message && one->sender == two->sender && one->recipients == two->recipients,
             "a run that is not deterministic");
  const std::string& out = one->message;
  FUZZ_CHECK(out.size() >= m.body.size() && out.compare(out.size() - m.body.size(), m.body.size(), m.body) == 0,
             "the body did not pass through unchanged");
  std::string_view head = header_of(out, m.body);
  FUZZ_CHECK(head.empty() || head.back() == '\n', "a header that does not end its last line");
  for (size_t at = 0; at < head.size();) {
    size_t nl = head.find('\n', at);
    std::string_view line = head.substr(at, nl + 1 - at);
    bool cont = line[0] == ' ' || line[0] == '\t';
    FUZZ_CHECK(cont ? at > 0 : queue::field_valid(line) || line.compare(0, 16, "MBOX-Line: From ") == 0,
               "a header line that neither starts a field nor continues one");
    at = nl + 1;
  }
  FUZZ_CHECK(clean_address(one->sender), "a line break in the envelope sender");
  for (const std::string& r : one->recipients) FUZZ_CHECK(clean_address(r), "a line break in an envelope recipient");
  std::string env = "F" + one->sender + '\0';
  for (const std::string& r : one->recipients) env += "T" + r + '\0';
  env += '\0';
  queue::EnvelopeParser ep;
  std::string intd;
  if (ep.feed(env, intd) != queue::EnvelopeParser::Status::done)
    FUZZ_CHECK(one->sender.size() >= 1000 || std::any_of(one->recipients.begin(), one->recipients.end(),
                                                         [](const std::string& r) { return r.size() >= 1000; }),
               "qmail-queue refuses the envelope qmail-inject made");

  // Its own output, injected again (without -n's Return-Path), is taken, with
  // the body as it was. (Its fields need not be the same: a malformed address
  // loses one stray trailing dot per pass, as in qmail.)
  if (!a.print) {
    Args b = a;
    b.flags.clear();
    auto again = inject(b, out);
    FUZZ_CHECK(bool(again), "qmail-inject refuses its own output");
    FUZZ_CHECK(queue::split_message(again->message).body == queue::split_message(out).body,
               "a second injection changed the body");
  }
  return 0;
}
