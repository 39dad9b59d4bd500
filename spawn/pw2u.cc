// qmail-pw2u's conversion (see pw2u.h).
#include "spawn/pw2u.h"

#include <cerrno>
#include <cstdlib>
#include <map>
#include <unistd.h>

#include "reactor/control.h"
#include "reactor/fd.h"

namespace spawn {

namespace {

// Splits text into lines the way qmail's getln loop sees them: the last piece
// is a line too (possibly empty), without its newline.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.push_back(text.substr(pos));
      return out;
    }
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

// Splits at ':' into fields; a field counts only if a ':' ends it.
std::vector<std::string_view> colon_fields(std::string_view line) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  for (size_t c; (c = line.find(':', pos)) != std::string_view::npos; pos = c + 1) f.push_back(line.substr(pos, c - pos));
  return f;
}

// Case-insensitive set/map lookups, like qmail's constmap.
bool in_list(const std::vector<std::string>& list, const std::string& name) {
  std::string l = reactor::lowercase(name);
  for (const auto& x : list)
    if (reactor::lowercase(x) == l) return true;
  return false;
}

const std::string* mailnames_of(const std::vector<std::string>& list, const std::string& name) {
  std::string l = reactor::lowercase(name);
  for (const auto& x : list) {
    size_t c = x.find(':');
    if (c == std::string::npos) continue;
    if (reactor::lowercase(x.substr(0, c)) == l) return &x;
  }
  return nullptr;
}

reactor::Error fatal(std::string text) { return reactor::temp_error(std::move(text)); }

}  // namespace

bool parse_pw2u_options(int argc, char** argv, Pw2uOptions& o) {
  ::optind = 1;
  ::opterr = 0;
  int c;
  while ((c = ::getopt(argc, argv, "/ohHuUc:C")) != -1) {
    switch (c) {
      case '/': o.dash_colon = "-/:"; break;
      case 'o': o.home_strategy = 2; break;
      case 'h': o.home_strategy = 1; break;
      case 'H': o.home_strategy = 0; break;
      case 'u': o.no_upper = false; break;
      case 'U': o.no_upper = true; break;
      case 'c': o.brk = ::optarg[0]; break;
      case 'C': o.brk = '\0'; break;
      default: return false;
    }
  }
  return true;
}

reactor::Result<Pw2uFiles> read_pw2u_files() {
  Pw2uFiles f;
  struct ListFile {
    const char* path;
    std::optional<std::vector<std::string>>* out;
  };
  for (ListFile lf : {ListFile{"users/include", &f.include}, ListFile{"users/exclude", &f.exclude},
                      ListFile{"users/mailnames", &f.mailnames}}) {
    auto r = reactor::control_list(lf.path);
    if (!r) return fatal("unable to read controls");
    *lf.out = std::move(*r);
  }
  for (auto [path, out] : {std::pair{"users/subusers", &f.subusers}, std::pair{"users/append", &f.append}}) {
    auto r = reactor::read_file(path);
    if (r) *out = std::move(*r);
    else if (r.error().temporary) return fatal("unable to read controls");
  }
  return f;
}

reactor::Result<std::string> pw2u(std::string_view passwd, const Pw2uOptions& o, const Pw2uFiles& f,
                                  PasswdDb& db) {
  std::string out;
  std::map<std::string, std::string> accepted;  // lowercased user -> ":user:uid:gid:home:"
  bool have_alias = false;

  for (std::string_view line : split_lines(passwd)) {
    if (line.find('\0') != std::string_view::npos) continue;
    // user:password:uid:gid:gecos:home:shell; home must be followed by ':'.
    auto fl = colon_fields(line);
    if (fl.size() < 6) continue;
    std::string user(fl[0]), uidstr(fl[2]), gidstr(fl[3]), home(fl[5]);
    unsigned long uid = std::strtoul(uidstr.c_str(), nullptr, 10);
    if (uid == 0) continue;
    if (o.no_upper && user != reactor::lowercase(user)) continue;
    if (f.include && !in_list(*f.include, user)) continue;
    if (f.exclude && in_list(*f.exclude, user)) continue;
    if (o.home_strategy) {
      uid_t owner = 0;
      int err = db.stat_owner(home, owner);
      if (err != 0) {
        if (err != ENOENT || o.home_strategy == 1) return fatal("unable to stat " + home);
        continue;
      }
      if (owner != uid) continue;
    }
    std::string uugh = ":" + user + ":" + uidstr + ":" + gidstr + ":" + home + ":";
    accepted.emplace(reactor::lowercase(user), uugh);

    if (user == "alias") {
      out += "+" + uugh + o.dash_colon + ":\n";
      have_alias = true;
    }
    // The account's mail names: its own name unless users/mailnames says otherwise.
    std::string names = user;
    if (f.mailnames)
      if (const std::string* m = mailnames_of(*f.mailnames, user)) names = m->substr(m->find(':') + 1);
    size_t pos = 0;
    while (pos < names.size()) {
      size_t c = names.find(':', pos);
      if (c == std::string::npos) c = names.size();
      std::string name = names.substr(pos, c - pos);
      pos = c + 1;
      if (name.empty()) continue;
      out += "=" + name + uugh + "::\n";
      if (o.brk) out += "+" + name + std::string(1, o.brk) + uugh + o.dash_colon + ":\n";
    }
  }
  if (!have_alias) return fatal("unable to find alias user");

  if (f.subusers) {
    // sub:user:pre: -- sub and sub-ext handled by user's .qmail-pre[-ext].
    for (std::string_view line : split_lines(*f.subusers)) {
      auto fl = colon_fields(line);
      if (fl.size() < 3) {
        if (fl.size() == 2 && !accepted.count(reactor::lowercase(fl[1])))
          return fatal("unable to find " + std::string(fl[1]) + " user for subuser");
        continue;
      }
      auto it = accepted.find(reactor::lowercase(fl[1]));
      if (it == accepted.end()) return fatal("unable to find " + std::string(fl[1]) + " user for subuser");
      std::string sub(fl[0]), pre(fl[2]);
      out += "=" + sub + it->second + o.dash_colon + pre + ":\n";
      if (o.brk) out += "+" + sub + std::string(1, o.brk) + it->second + o.dash_colon + pre + "-:\n";
    }
  }
  if (f.append) {
    out += *f.append;
    // qmail would glue "." to an unterminated last line; end it instead.
    if (!f.append->empty() && f.append->back() != '\n') out += '\n';
  }
  out += ".\n";
  return out;
}

}  // namespace spawn
