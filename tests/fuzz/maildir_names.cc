// Maildir names and scans: queue/maildir.h (maildir_escape_host,
// maildir_base_name, maildir_list), pop3/mailbox.h (scan_maildir, clean_tmp)
// and qmail-pop3d's UIDL of a scanned message (pop3/pop3d.h).
//
// Input: one flag byte, then lines:
//   HOST1, HOST2               two host names to escape and name files with
//   SEC USEC PID COUNTER       two name tuples (decimal, '-' allowed; wraps)
//   SEC USEC PID COUNTER
//   then one line per directory entry (at most 12): a kind ('n' file in new/,
//   'c' in cur/, 't' in tmp/, 'd'/'D' a directory in new/ or cur/), an age
//   byte (mtime = T - (age % 16) + 4, so some are of the scan's second or
//   later; for tmp/ files the atime is T - (age % 64) hours), a size byte
//   ((size % 8) * 37 bytes), and the name (a '/' or NUL becomes '_').
// Flag 0x01: DELE the scanned messages chosen by flag bits 0x10..0x80 and
// QUIT, with file operations on the temporary maildir.
// Invariants:
//   - an escaped host has no '/' and no ':' (qmail's rule: '/' is \057 and
//     ':' \072, a backslash is kept as it is), unescapes to the host when the
//     host has no backslash, and so two such hosts never share an escape;
//     two hosts with one escape differ only through a backslash;
//   - a base name is "SEC.MUSECPPIDQCOUNTER." and the escaped host, has no
//     '/', and distinct (tuple, escaped host) give distinct names;
//   - maildir_list gives exactly the regular files of new/ then cur/ not
//     starting with '.', each part sorted by name, with their sizes and
//     mtimes: no entry that does not exist, none twice, no directory;
//   - scan_maildir keeps those older than the scan's second, ordered by mtime
//     (ties in list order), as "new/NAME" or "cur/NAME" with their sizes;
//   - the UIDL of a message is its name up to the first ':', without '/';
//   - clean_tmp removes exactly the tmp/ files more than 36 hours old (by
//     atime; names starting with '.' stay);
//   - QUIT unlinks exactly the messages marked deleted and moves the others
//     of new/ to cur/NAME:2, ; nothing else in the maildir changes.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pop3/mailbox.h"
#include "pop3/pop3d.h"
#include "queue/maildir.h"
#include "tests/fuzz/fuzz.h"

namespace {

constexpr std::time_t kNow = 1700000000;  // the scan's "now"

struct TempMaildir {
  std::string dir;
  TempMaildir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/evq-fuzz-maildir-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    FUZZ_CHECK(::mkdtemp(buf.data()) != nullptr, "mkdtemp failed");
    dir = buf.data();
    for (const char* s : {"/new", "/cur", "/tmp"}) ::mkdir((dir + s).c_str(), 0700);
  }
  ~TempMaildir() {
    clean();
    for (const char* s : {"/new", "/cur", "/tmp"}) ::rmdir((dir + s).c_str());
    ::rmdir(dir.c_str());
  }
  // Empties new/, cur/ and tmp/ (entries are files or empty directories).
  void clean() const {
    for (const char* s : {"/new", "/cur", "/tmp"}) {
      std::string sub = dir + s;
      DIR* d = ::opendir(sub.c_str());
      if (!d) continue;
      std::vector<std::string> names;
      while (dirent* e = ::readdir(d))
        if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") names.emplace_back(e->d_name);
      ::closedir(d);
      for (const auto& n : names) {
        std::string p = sub + "/" + n;
        if (::unlink(p.c_str()) != 0) ::rmdir(p.c_str());
      }
    }
  }
};

TempMaildir& maildir() {
  static TempMaildir m;
  return m;
}

std::set<std::string> list_dir(const std::string& path) {
  std::set<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d))
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") out.emplace(e->d_name);
  ::closedir(d);
  return out;
}

// Lenient signed decimal: an optional '-', then digits, wrapping.
long long number(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  unsigned long long v = 0;
  while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
    v = v * 10 + static_cast<unsigned long long>(s.front() - '0');
    s.remove_prefix(1);
  }
  return static_cast<long long>(neg ? 0 - v : v);
}

struct Tuple {
  std::time_t sec;
  long usec;
  pid_t pid;
  unsigned long counter;
  bool operator==(const Tuple&) const = default;
};

Tuple tuple(std::string_view s) {
  Tuple t;
  t.sec = static_cast<std::time_t>(number(s));
  t.usec = static_cast<long>(number(s));
  t.pid = static_cast<pid_t>(number(s));
  t.counter = static_cast<unsigned long>(number(s));
  return t;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 4) == "\\057") { out += '/'; i += 3; }
    else if (s.substr(i, 4) == "\\072") { out += ':'; i += 3; }
    else out += s[i];
  }
  return out;
}

void check_escape(std::string_view h) {
  std::string e = queue::maildir_escape_host(h);
  FUZZ_CHECK(e.find_first_of("/:") == std::string::npos, "an escaped host with '/' or ':'");
  FUZZ_CHECK(e.size() <= 4 * h.size(), "an escape longer than four bytes a byte");
  if (h.find('\\') == std::string_view::npos) FUZZ_CHECK(unescape(e) == h, "an escape that does not unescape");
}

std::string ref_base(const Tuple& t, std::string_view host) {
  return std::to_string(static_cast<long long>(t.sec)) + ".M" + std::to_string(t.usec) + "P" +
         std::to_string(static_cast<long>(t.pid)) + "Q" + std::to_string(t.counter) + "." +
         queue::maildir_escape_host(host);
}

struct Made {
  std::string sub, name;
  off_t size;
  std::time_t mtime;
};

// Applies QUIT's changes to the temporary maildir.
struct DirOps : pop3::FileOps {
  std::string dir;
  std::vector<std::string> unlinked;
  std::map<std::string, std::string> renamed;
  bool unlink(const std::string& p) override {
    unlinked.push_back(p);
    return ::unlink((dir + "/" + p).c_str()) == 0;
  }
  bool rename(const std::string& f, const std::string& t) override {
    renamed[f] = t;
    return ::rename((dir + "/" + f).c_str(), (dir + "/" + t).c_str()) == 0;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t flags = in.byte();
  std::string_view rest = in.rest();
  auto line = [&]() {
    size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    return l;
  };
  std::string_view h1 = line(), h2 = line();
  Tuple t1 = tuple(line()), t2 = tuple(line());

  // Host escapes and base names.
  check_escape(h1);
  check_escape(h2);
  std::string e1 = queue::maildir_escape_host(h1), e2 = queue::maildir_escape_host(h2);
  if (h1 != h2 && e1 == e2)
    FUZZ_CHECK(h1.find('\\') != std::string_view::npos || h2.find('\\') != std::string_view::npos,
               "two hosts without a backslash share an escape");
  std::string n1 = queue::maildir_base_name(t1.sec, t1.usec, t1.pid, t1.counter, h1);
  std::string n2 = queue::maildir_base_name(t2.sec, t2.usec, t2.pid, t2.counter, h2);
  FUZZ_CHECK(n1 == ref_base(t1, h1) && n2 == ref_base(t2, h2), "a base name not of qmail's form");
  FUZZ_CHECK(n1.find('/') == std::string::npos && n2.find('/') == std::string::npos, "a base name with '/'");
  if (!(t1 == t2) || e1 != e2) FUZZ_CHECK(n1 != n2, "two deliveries given one name");
  std::string n1b = queue::maildir_base_name(t1.sec, t1.usec, t1.pid, t1.counter + 1, h1);
  FUZZ_CHECK(n1b != n1, "the next counter gives the same name");

  // A maildir with the input's entries.
  const TempMaildir& m = maildir();
  std::vector<Made> made;  // regular files of new/ and cur/
  std::map<std::string, bool> tmp_files;  // name -> old enough to go
  std::set<std::string> taken;  // "sub/name" of everything created
  for (int n = 0; n < 12 && !rest.empty(); ++n) {
    std::string_view l = line();
    if (l.size() < 4) continue;
    char kind = l[0];
    uint8_t age = static_cast<uint8_t>(l[1]), sz = static_cast<uint8_t>(l[2]);
    std::string name(l.substr(3, 100));
    for (char& c : name)
      if (c == '/' || c == '\0') c = '_';
    if (name == "." || name == "..") name = "_" + name;
    const char* sub = kind == 'n' || kind == 'd' ? "new" : kind == 'c' || kind == 'D' ? "cur" : kind == 't' ? "tmp" : nullptr;
    if (!sub) continue;
    std::string rel = std::string(sub) + "/" + name;
    if (!taken.insert(rel).second) continue;
    std::string path = m.dir + "/" + rel;
    if (kind == 'd' || kind == 'D') {
      FUZZ_CHECK(::mkdir(path.c_str(), 0700) == 0, "cannot make a directory in the maildir");
      continue;
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot create a file in the maildir");
    std::string body((sz % 8) * 37, 'x');
    FUZZ_CHECK(::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()), "short write");
    ::close(fd);
    struct timespec ts[2];
    if (kind == 't') {
      int hours = age % 64;
      ts[0] = {kNow - hours * 3600, 0};
      ts[1] = ts[0];
      tmp_files[name] = name[0] != '.' && kNow > ts[0].tv_sec + pop3::kTmpMaxAge;
    } else {
      ts[0] = {kNow - (age % 16) + 4, 0};
      ts[1] = ts[0];
      made.push_back({sub, name, static_cast<off_t>(body.size()), ts[1].tv_sec});
    }
    FUZZ_CHECK(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0, "cannot set file times");
  }

  // maildir_list: exactly the visible regular files, new/ then cur/, by name.
  std::vector<Made> want;
  for (const char* sub : {"new", "cur"}) {
    std::vector<Made> part;
    for (const auto& x : made)
      if (x.sub == sub && x.name[0] != '.') part.push_back(x);
    std::sort(part.begin(), part.end(), [](const Made& a, const Made& b) { return a.name < b.name; });
    want.insert(want.end(), part.begin(), part.end());
  }
  auto list = queue::maildir_list(m.dir);
  FUZZ_CHECK(bool(list), "maildir_list failed on a readable maildir");
  FUZZ_CHECK(list->size() == want.size(), "maildir_list gives other entries than the maildir holds");
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& e = (*list)[i];
    FUZZ_CHECK(e.sub == want[i].sub && e.name == want[i].name, "maildir_list out of order or inventing entries");
    FUZZ_CHECK(e.size == want[i].size, "maildir_list gives a wrong size");
    FUZZ_CHECK(e.mtime == want[i].mtime, "maildir_list gives a wrong mtime");
  }

  // scan_maildir: older than the scan's second, by mtime, ties in list order.
  std::vector<Made> old;
  for (const auto& x : want)
    if (x.mtime < kNow) old.push_back(x);
  std::stable_sort(old.begin(), old.end(), [](const Made& a, const Made& b) { return a.mtime < b.mtime; });
  auto scan = pop3::scan_maildir(m.dir, kNow);
  FUZZ_CHECK(bool(scan), "scan_maildir failed on a readable maildir");
  FUZZ_CHECK(scan->size() == old.size(), "scan_maildir keeps other messages than those before now");
  for (size_t i = 0; i < old.size(); ++i) {
    FUZZ_CHECK((*scan)[i].path == old[i].sub + "/" + old[i].name, "scan_maildir's order or path is wrong");
    FUZZ_CHECK((*scan)[i].size == static_cast<uint64_t>(old[i].size), "scan_maildir gives a wrong size");
    FUZZ_CHECK(!(*scan)[i].deleted, "a scanned message already deleted");
  }

  // qmail-pop3d's view: UIDLs, and QUIT's commit on the real files.
  DirOps ops;
  ops.dir = m.dir;
  pop3::Pop3d pop(*scan, ops);
  for (size_t i = 0; i < old.size(); ++i) {
    std::string u = pop.uidl(i);
    FUZZ_CHECK(u == old[i].name.substr(0, old[i].name.find(':')), "a UIDL other than the name before ':'");
    FUZZ_CHECK(u.find('/') == std::string::npos, "a UIDL with '/'");
  }
  if (flags & 0x01) {
    std::set<std::string> gone;
    for (size_t i = 0; i < old.size(); ++i) {
      if (!(flags & (0x10 << (i % 4)))) continue;
      pop.command("DELE " + std::to_string(i + 1));
      gone.insert(old[i].sub + "/" + old[i].name);
    }
    auto before_new = list_dir(m.dir + "/new"), before_cur = list_dir(m.dir + "/cur");
    pop3::Action a = pop.command("QUIT");
    FUZZ_CHECK(a.quit, "QUIT that does not end the session");
    std::set<std::string> unl(ops.unlinked.begin(), ops.unlinked.end());
    FUZZ_CHECK(unl == gone && ops.unlinked.size() == gone.size(), "QUIT unlinked other messages than the deleted");
    // Expected contents after QUIT.
    std::set<std::string> want_new, want_cur = before_cur;
    for (const auto& n : before_new) {
      std::string rel = "new/" + n;
      bool scanned = false;
      for (const auto& x : old) scanned = scanned || (x.sub == "new" && x.name == n);
      if (gone.count(rel)) continue;
      if (scanned) want_cur.insert(n + ":2,");
      else want_new.insert(n);
    }
    for (const auto& g : gone)
      if (g.compare(0, 4, "cur/") == 0) want_cur.erase(g.substr(4));
    // new/NAME moving onto an existing cur/NAME:2, (never so in a maildir of
    // unique names) replaces it or fails, as in qmail: not modelled here.
    bool clash = false;
    for (const auto& x : old) clash = clash || (x.sub == "new" && before_cur.count(x.name + ":2,"));
    if (!clash) {
      FUZZ_CHECK(list_dir(m.dir + "/new") == want_new, "QUIT left new/ other than it should");
      FUZZ_CHECK(list_dir(m.dir + "/cur") == want_cur, "QUIT left cur/ other than it should");
    }
    for (const auto& [from, to] : ops.renamed)
      FUZZ_CHECK(from.compare(0, 4, "new/") == 0 && to == "cur/" + from.substr(4) + ":2,",
                 "QUIT renamed a message other than new/NAME to cur/NAME:2,");
  }

  // clean_tmp: exactly the files more than 36 hours old.
  int removed = pop3::clean_tmp(m.dir, kNow);
  std::set<std::string> left = list_dir(m.dir + "/tmp"), stay;
  int old_count = 0;
  for (const auto& [n, go] : tmp_files) {
    if (go) ++old_count;
    else stay.insert(n);
  }
  FUZZ_CHECK(removed == old_count, "clean_tmp's count is not the number of old files");
  FUZZ_CHECK(left == stay, "clean_tmp removed a young file or kept an old one");

  m.clean();
  return 0;
}
