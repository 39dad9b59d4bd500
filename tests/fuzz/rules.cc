// tcprules/tcpserver rules (reactor/rules.h) and the cdb underneath them
// (reactor/cdb.h over tinycdb).
//
// Input: one flag byte, three lines "IP\nHOST\nINFO\n" (the connection to
// look up; HOST is used only with flag 0x04, INFO only with 0x08), then:
//   - flag 0x01 clear: a rules text as tcprules reads it;
//   - flag 0x01 set (hostile cdb): a rules text, a line "%%", then patches of
//     three bytes (offset high, offset low, byte) written over the cdb that
//     text compiles to; with 0x10 the first two patch bytes are instead a new
//     file length in units of 4 bytes (truncate or extend with zeros);
//   - flags 0x01 and 0x02 set: the rest is the whole cdb file as is (no rules
//     text, no compiling);
//   - with 0x20 (hostile cdb) the file is padded with zeros to a whole number
//     of pages, so that a read past its end faults instead of reading the
//     rest of the last page.
// Invariants:
//   - parse_rules over the text gives the records of its lines parsed one by
//     one, and fails exactly on the first bad line, naming it;
//   - every record's value decodes (decode_rule) to what a reference reading
//     of the instruction syntax gives: allow/deny, then ,NAME=<q>value<q>
//     with any quote character (the round trip of the env assignments);
//   - a range a-b in the last component gives distinct keys, at most 256;
//   - compile_rules fails (permanently, writing no cdb) exactly when
//     parse_rules fails; otherwise match_rules_file over the cdb agrees with a
//     reference lookup (the key order of ucspi-tcp's rules.c written here)
//     over an in-memory map of the first record per key, and find_all gives
//     every record of a key in order;
//   - over a hostile cdb nothing crashes, and every value found is really in
//     the file, as a record (key length, value length, key, value) for that
//     key, not bytes read from outside it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/cdb.h"
#include "reactor/rules.h"
#include "tests/fuzz/fuzz.h"

namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

// One directory for the whole process, emptied after every input.
struct TempDir {
  std::string dir;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/evq-fuzz-rules-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    FUZZ_CHECK(::mkdtemp(buf.data()) != nullptr, "mkdtemp failed");
    dir = buf.data();
  }
  ~TempDir() {
    clean();
    ::rmdir(dir.c_str());
  }
  std::string path(const char* name) const { return dir + "/" + name; }
  void clean() const {
    for (const char* n : {"rules.cdb", "rules.tmp", "hostile.cdb"}) ::unlink(path(n).c_str());
  }
};

TempDir& temp() {
  static TempDir t;
  return t;
}

void write_file(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  FUZZ_CHECK(fd >= 0, "cannot create a file in the temporary directory");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    FUZZ_CHECK(w > 0, "cannot write a file in the temporary directory");
    off += size_t(w);
  }
  ::close(fd);
}

std::string read_whole(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[8192];
  for (ssize_t r; (r = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(r));
  ::close(fd);
  return out;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The instruction syntax of tcprules(1): allow|deny then ,NAME=<q>value<q>...
std::optional<reactor::RuleAction> ref_instructions(std::string_view x) {
  reactor::RuleAction a;
  if (x.substr(0, 4) == "deny") {
    a.deny = true;
    x.remove_prefix(4);
  } else if (x.substr(0, 5) == "allow") {
    x.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  while (!x.empty()) {
    if (x[0] != ',') return std::nullopt;
    x.remove_prefix(1);
    size_t eq = x.find('=');
    if (eq == std::string_view::npos || eq + 1 >= x.size()) return std::nullopt;
    std::string name(x.substr(0, eq));
    char q = x[eq + 1];
    x.remove_prefix(eq + 2);
    size_t end = x.find(q);
    if (end == std::string_view::npos) return std::nullopt;
    a.env.emplace_back(name, std::string(x.substr(0, end)));
    x.remove_prefix(end + 1);
  }
  return a;
}

bool same_action(const reactor::RuleAction& a, const reactor::RuleAction& b) {
  return a.deny == b.deny && a.env == b.env;
}

// The keys of ucspi-tcp's rules.c, in order (duplicates are harmless).
std::vector<std::string> ref_keys(const std::string& ip, const std::optional<std::string>& host,
                                  const std::optional<std::string>& info) {
  std::vector<std::string> k;
  if (info) k.push_back(*info + "@" + ip);
  if (info && host) k.push_back(*info + "@=" + *host);
  k.push_back(ip);
  if (host) k.push_back("=" + *host);
  char sep = ip.find(':') == std::string::npos ? '.' : ':';
  for (size_t n = ip.size(); n > 0; --n)
    if (ip[n - 1] == sep) k.push_back(ip.substr(0, n));
  if (host) {
    for (size_t i = 0; i < host->size(); ++i)
      if ((*host)[i] == '.') k.push_back("=" + host->substr(i));
    k.push_back("=");
  }
  k.push_back("");
  return k;
}

using Table = std::map<std::string, std::vector<std::string>>;

std::optional<reactor::RuleMatch> ref_match(const Table& t, const std::string& ip,
                                            const std::optional<std::string>& host,
                                            const std::optional<std::string>& info) {
  for (const auto& k : ref_keys(ip, host, info)) {
    auto it = t.find(k);
    if (it != t.end()) return reactor::RuleMatch{k, it->second.front()};
  }
  return std::nullopt;
}

void pack(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xff);
}

// The value came out of `file` as a record of `key`.
void check_in_file(std::string_view file, std::string_view key, const std::string& value) {
  FUZZ_CHECK(value.size() <= file.size(), "a cdb value longer than the file");
  std::string rec;
  pack(rec, uint32_t(key.size()));
  pack(rec, uint32_t(value.size()));
  rec.append(key);
  rec.append(value);
  FUZZ_CHECK(file.find(rec) != std::string_view::npos, "a cdb value that is no record of the file");
}

// Reference decoding of a value: records ended by NUL; D is deny, +N=V an assignment.
reactor::RuleAction ref_decode(std::string_view v) {
  reactor::RuleAction a;
  for (;;) {
    size_t nul = v.find('\0');
    if (nul == std::string_view::npos) break;
    std::string_view rec = v.substr(0, nul);
    v.remove_prefix(nul + 1);
    if (rec.empty()) continue;
    if (rec[0] == 'D') a.deny = true;
    if (rec[0] == '+') {
      size_t eq = rec.find('=');
      if (eq != std::string_view::npos)
        a.env.emplace_back(std::string(rec.substr(1, eq - 1)), std::string(rec.substr(eq + 1)));
    }
  }
  return a;
}

// One line's records; checks them against the reference reading of the line.
std::optional<std::vector<reactor::RuleRecord>> check_line(std::string_view line) {
  auto r = reactor::parse_rules(line);
  // The line as parse_rules sees it: trailing blanks gone.
  std::string_view l = line;
  while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
  if (!r) {
    FUZZ_CHECK(!r.error().temporary, "a parse error that is temporary");
    FUZZ_CHECK(r.error().text == l, "a parse error naming another line");
    return std::nullopt;
  }
  if (l.empty() || l[0] == '#' || l.find(':') == std::string_view::npos) {
    FUZZ_CHECK(r->empty(), "records from a comment, blank or colon-less line");
    return std::move(*r);
  }
  FUZZ_CHECK(!r->empty() || l.find('-') != std::string_view::npos, "a rule line without records");
  FUZZ_CHECK(r->size() <= 256, "a range giving more than 256 keys");
  std::map<std::string, int> seen;
  for (const auto& rec : *r) {
    FUZZ_CHECK(rec.value == r->front().value, "one line giving different values");
    FUZZ_CHECK(rec.key.find('\n') == std::string::npos, "a key with a LF");
    FUZZ_CHECK(++seen[rec.key] == 1 || r->size() == 1, "a range giving the same key twice");
  }
  if (r->empty()) return std::move(*r);
  // The value is the instructions after one of the line's colons, re-encoded.
  reactor::RuleAction got = reactor::decode_rule(r->front().value);
  bool found = false;
  for (size_t c = l.find(':'); c != std::string_view::npos && !found; c = l.find(':', c + 1)) {
    auto want = ref_instructions(l.substr(c + 1));
    found = want && same_action(*want, got);
  }
  FUZZ_CHECK(found, "a rule value that does not decode to the line's instructions");
  FUZZ_CHECK(same_action(got, ref_decode(r->front().value)), "decode_rule unlike the reference decoder");
  return std::move(*r);
}

std::optional<std::string> line_opt(bool on, std::string_view s) {
  if (!on) return std::nullopt;
  return std::string(s);
}

void lookups_over_cdb(std::string_view file, const std::string& cdb, const std::vector<std::string>& ips,
                      const std::optional<std::string>& host, const std::optional<std::string>& info,
                      const std::vector<std::string>& keys) {
  reactor::CdbReader r;
  if (!r.open(cdb)) return;  // refused as no cdb: fine
  for (const auto& k : keys) {
    auto v = r.find(k);
    auto all = r.find_all(k);
    if (v) {
      check_in_file(file, k, *v);
      FUZZ_CHECK(!all.empty() && all.front() == *v, "find and find_all disagree");
    }
    for (const auto& a : all) check_in_file(file, k, a);
    if (v) (void)reactor::describe_rule(k, *v);
  }
  for (const auto& ip : ips) {
    auto m = reactor::match_rules_file(cdb, ip, host, info);
    if (!m || !*m) continue;
    const auto& got = **m;
    check_in_file(file, got.key, got.value);
    auto order = ref_keys(ip, host, info);
    bool listed = false;
    for (const auto& k : order) listed = listed || k == got.key;
    FUZZ_CHECK(listed, "a hostile cdb matched a key not probed");
    FUZZ_CHECK(same_action(reactor::decode_rule(got.value), ref_decode(got.value)),
               "decode_rule unlike the reference decoder");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t flags = in.byte();
  std::string_view rest = in.rest();
  std::string_view fields[3];
  for (auto& f : fields) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) nl = rest.size();
    f = rest.substr(0, nl);
    rest.remove_prefix(nl < rest.size() ? nl + 1 : nl);
  }
  std::string ip(fields[0]);
  auto host = line_opt(flags & 0x04, fields[1]);
  auto info = line_opt(flags & 0x08, fields[2]);
  const TempDir& t = temp();
  std::string cdb = t.path("rules.cdb"), tmp = t.path("rules.tmp");

  std::string_view text = rest, patches;
  bool hostile = flags & 0x01, raw = hostile && (flags & 0x02);
  if (raw) {
    text = {};
  } else if (hostile) {
    size_t sep = rest.find("%%\n");
    if (sep != std::string_view::npos && (sep == 0 || rest[sep - 1] == '\n')) {
      text = rest.substr(0, sep);
      patches = rest.substr(sep + 3);
    }
  }

  // Parsing: the whole text is its lines parsed one by one.
  auto whole = reactor::parse_rules(text);
  std::vector<reactor::RuleRecord> by_line;
  std::optional<std::string> first_bad;
  for (std::string_view s = text; !s.empty() && !first_bad;) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
    if (auto recs = check_line(line)) {
      by_line.insert(by_line.end(), recs->begin(), recs->end());
    } else {
      std::string_view l = line;
      while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
      first_bad = std::string(l);
    }
  }
  FUZZ_CHECK(whole.ok() == !first_bad, "the text parses unlike its lines");
  if (whole) {
    FUZZ_CHECK(whole->size() == by_line.size(), "the text gives other records than its lines");
    for (size_t i = 0; i < by_line.size(); ++i)
      FUZZ_CHECK((*whole)[i].key == by_line[i].key && (*whole)[i].value == by_line[i].value,
                 "the text gives other records than its lines");
  } else {
    FUZZ_CHECK(whole.error().text == *first_bad, "the error names another line than the first bad one");
  }

  // The addresses looked up: the input's, and a few keys of the rules as IPs.
  std::vector<std::string> ips = {ip};
  std::vector<std::string> keys = {ip, "", "="};
  if (whole) {
    for (size_t i = 0; i < whole->size() && i < 4; ++i) {
      const auto& k = (*whole)[i].key;
      keys.push_back(k);
      if (k.find_first_of("=@") == std::string::npos) {
        ips.push_back(k);
        ips.push_back(k + "7");
      }
    }
  }
  for (const auto& k : ref_keys(ip, host, info)) keys.push_back(k);

  if (!hostile) {
    auto s = reactor::compile_rules(text, cdb, tmp);
    FUZZ_CHECK(bool(s) == bool(whole), "compile_rules and parse_rules disagree");
    if (!s) {
      FUZZ_CHECK(!s.error().temporary, "a parse failure reported as temporary");
      FUZZ_CHECK(!exists(cdb) && !exists(tmp), "a failed compile left a file behind");
    } else {
      FUZZ_CHECK(exists(cdb) && !exists(tmp), "a compile that left no cdb or its temporary");
      Table table;
      for (const auto& rec : *whole) table[rec.key].push_back(rec.value);
      for (const auto& one : ips) {
        auto got = reactor::match_rules_file(cdb, one, host, info);
        FUZZ_CHECK(bool(got), "a freshly compiled cdb that cannot be read");
        auto want = ref_match(table, one, host, info);
        FUZZ_CHECK(got->has_value() == want.has_value(), "the cdb and the rules disagree on a match");
        if (want) {
          FUZZ_CHECK((*got)->key == want->key, "the cdb matched another key than the rules order gives");
          FUZZ_CHECK((*got)->value == want->value, "the cdb gave another value than the first record");
        }
        // match_rules over the map agrees too.
        reactor::RuleFinder f = [&](std::string_view k) -> std::optional<std::string> {
          auto it = table.find(std::string(k));
          if (it == table.end()) return std::nullopt;
          return it->second.front();
        };
        auto mem = reactor::match_rules(f, one, host, info);
        FUZZ_CHECK(mem.has_value() == want.has_value() && (!mem || mem->key == want->key),
                   "match_rules over a map unlike the reference order");
      }
      reactor::CdbReader r;
      FUZZ_CHECK(bool(r.open(cdb)), "a freshly compiled cdb that cannot be opened");
      for (const auto& k : keys) {
        auto it = table.find(k);
        auto all = r.find_all(k);
        if (it == table.end()) {
          FUZZ_CHECK(all.empty() && !r.find(k), "the cdb has a key the rules do not");
        } else {
          FUZZ_CHECK(all == it->second, "find_all does not give every record of a key in order");
        }
      }
    }
    t.clean();
    return 0;
  }

  // Hostile cdb files: compiled then patched, or raw bytes.
  std::string file;
  if (raw) {
    file.assign(rest.data(), rest.size());
  } else {
    if (!whole) {
      t.clean();
      return 0;
    }
    FUZZ_CHECK(bool(reactor::compile_rules(text, cdb, tmp)), "a parsed text that does not compile");
    file = read_whole(cdb);
    size_t p = 0;
    if ((flags & 0x10) && patches.size() >= 2) {
      size_t len = (size_t(uint8_t(patches[0])) << 8 | uint8_t(patches[1])) * 4;
      file.resize(len, '\0');
      p = 2;
    }
    for (; p + 3 <= patches.size() && !file.empty(); p += 3) {
      size_t off = (size_t(uint8_t(patches[p])) << 8 | uint8_t(patches[p + 1])) % file.size();
      file[off] = patches[p + 2];
    }
  }
  if (flags & 0x20) file.resize((file.size() + 4095) / 4096 * 4096, '\0');
  std::string hostile_path = t.path("hostile.cdb");
  write_file(hostile_path, file);
  lookups_over_cdb(file, hostile_path, ips, host, info, keys);
  t.clean();
  return 0;
}
