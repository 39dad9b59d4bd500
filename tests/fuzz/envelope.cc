// The envelope codecs of the queue: qmail-queue's reader of the envelope on
// fd 1 (queue/queue_writer.h EnvelopeParser) and the record splitter and
// info file codec qmail-send reads the queue with (queue/envelope.h).
//
// Input: one byte of choices (bit 0: a QUEUE_EXTRA record; the rest: piece
// size), then the envelope bytes a caller of qmail-queue writes.
// Invariants, beyond "no crash":
//   - the parser reaches the same verdict, takes the same bytes and writes
//     the same intd bytes whether the envelope comes whole or in pieces;
//   - it agrees with a reference reading: `F<sender>\0`, then `T<rcpt>\0`
//     records, then `\0`; anything else is a format error, an address of
//     1003 bytes or more is too long, and a CR or LF in an address is a
//     format error, so no line break ever reaches the queue;
//   - what it accepts comes back, record by record, through split_records(),
//     with the extra records right after the sender, and the sender's info
//     file reads back as the sender; the bytes after the final `\0` are not
//     taken;
//   - split_records() on any bytes: the records and their offsets rebuild
//     the input up to its last NUL.

#include <string>
#include <vector>

#include "queue/envelope.h"
#include "queue/queue_writer.h"
#include "tests/fuzz/fuzz.h"

namespace {

using Status = queue::EnvelopeParser::Status;

struct Parsed {
  Status status;
  std::string out;
  size_t used = 0;
  int code;
};

Parsed parse(std::string_view env, const std::string& extra, size_t step) {
  queue::EnvelopeParser p(extra);
  Parsed r;
  for (size_t at = 0; at < env.size(); at += step) {
    std::string_view piece = env.substr(at, step);
    size_t used = 0;
    Status st = p.feed(piece, r.out, &used);
    r.used += used;
    if (st != Status::more) {
      FUZZ_CHECK(p.feed("T", r.out) == st, "a final verdict that changed");
      break;
    }
    FUZZ_CHECK(used == piece.size(), "bytes left unread while more were wanted");
  }
  r.status = p.status();
  r.code = p.exit_code_at_eof();
  return r;
}

/// The reference reading: the verdict, and the addresses when done.
Status reference(std::string_view env, std::string& sender, std::vector<std::string>& rcpts, size_t& used) {
  size_t at = 0;
  if (env.empty()) return Status::more;
  if (env[0] != 'F') {
    used = 1;
    return Status::bad_format;
  }
  ++at;
  bool first = true;
  for (;;) {
    size_t start = at;
    while (at < env.size() && env[at] != '\0') {
      if (env[at] == '\r' || env[at] == '\n') {
        used = at + 1;
        return Status::bad_format;
      }
      if (at - start + 1 >= queue::kQqAddr) {
        used = at + 1;
        return Status::too_long;
      }
      ++at;
    }
    if (at == env.size()) return Status::more;
    std::string a(env.substr(start, at - start));
    if (first) sender = a;
    else rcpts.push_back(a);
    first = false;
    ++at;  // its NUL
    if (at == env.size()) return Status::more;
    if (env[at] == '\0') {
      used = at + 1;
      return Status::done;
    }
    if (env[at] != 'T') {
      used = at + 1;
      return Status::bad_format;
    }
    ++at;
  }
}

void check_split(std::string_view data) {
  bool complete = false;
  std::vector<queue::EnvRecord> recs = queue::split_records(data, &complete);
  std::string rebuilt;
  for (const queue::EnvRecord& r : recs) {
    FUZZ_CHECK(r.offset == static_cast<off_t>(rebuilt.size()), "a record at the wrong offset");
    if (r.type) rebuilt += r.type;
    else FUZZ_CHECK(r.value.empty(), "an empty record with a value");
    rebuilt += r.value;
    rebuilt += '\0';
  }
  size_t last = data.rfind('\0');
  size_t upto = last == std::string_view::npos ? 0 : last + 1;
  FUZZ_CHECK(rebuilt == data.substr(0, upto), "records that do not rebuild their input");
  FUZZ_CHECK(complete == (upto == data.size()), "complete() wrong");
  std::string sender;
  bool info = queue::parse_info(data, sender);
  FUZZ_CHECK(info == (!recs.empty() && recs[0].type == 'F'), "parse_info() disagrees with the first record");
  if (info) FUZZ_CHECK(sender == recs[0].value, "parse_info() read another sender");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t choice = in.byte();
  std::string_view env = in.rest();
  const std::string extra = choice & 1 ? queue::queue_extra_records({"log@example.org"}) : "";
  const size_t step = fuzz::piece(choice >> 1);

  Parsed whole = parse(env, extra, env.size() ? env.size() : 1);
  Parsed pieces = parse(env, extra, step);
  FUZZ_CHECK(whole.status == pieces.status && whole.out == pieces.out && whole.used == pieces.used &&
                 whole.code == pieces.code,
             "the envelope read differently in pieces");

  std::string sender;
  std::vector<std::string> rcpts;
  size_t used = env.size();
  Status want = reference(env, sender, rcpts, used);
  FUZZ_CHECK(whole.status == want, "a verdict the reference does not reach");
  if (want != Status::more) FUZZ_CHECK(whole.used == used, "the verdict came at another byte");
  switch (want) {
    case Status::done: FUZZ_CHECK(whole.code == 0, "a complete envelope not queued"); break;
    case Status::more: FUZZ_CHECK(whole.code == queue::qq_exit::kRead, "a cut envelope not refused with 54"); break;
    case Status::too_long: FUZZ_CHECK(whole.code == queue::qq_exit::kAddrTooLong, "too long, not 11"); break;
    case Status::bad_format: FUZZ_CHECK(whole.code == queue::qq_exit::kFormat, "a format error, not 91"); break;
  }
  if (want == Status::done) {
    FUZZ_CHECK(whole.out.find_first_of("\r\n") == std::string::npos, "a line break reached the queue");
    std::vector<queue::EnvRecord> recs = queue::split_records(whole.out);
    size_t k = 0;
    FUZZ_CHECK(!recs.empty() && recs[0].type == 'F' && recs[0].value == sender, "the sender record changed");
    ++k;
    if (!extra.empty()) {
      FUZZ_CHECK(recs.size() > 1 && recs[1].type == 'T' && recs[1].value == "log@example.org", "the extra record misplaced");
      ++k;
    }
    FUZZ_CHECK(recs.size() == k + rcpts.size(), "recipients lost or added");
    for (size_t i = 0; i < rcpts.size(); ++i)
      FUZZ_CHECK(recs[k + i].type == 'T' && recs[k + i].value == rcpts[i], "a recipient changed");
    std::string back;
    FUZZ_CHECK(queue::parse_info(queue::encode_info(sender), back) && back == sender, "the info file round trip");
  }
  check_split(env);
  return 0;
}
