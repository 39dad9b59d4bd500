// Virtual POP user database (see vpw.h).
#include "pop3/vpw.h"

#include <set>

#include "pop3/command.h"
#include "reactor/cdb.h"
#include "reactor/fd.h"

namespace pop3 {

std::string vpw_key(std::string_view login) {
  std::string k;
  k.reserve(login.size());
  for (char c : login) k += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  // Many POP clients cannot send '@' in a user name and use '%' instead.
  if (k.find('@') == std::string::npos) {
    size_t pct = k.rfind('%');
    if (pct != std::string::npos) k[pct] = '@';
  }
  return k;
}

namespace {

bool parse_id(std::string_view s, unsigned long& out) {
  Number n = scan_number(s);
  if (!n.digits || n.digits != s.size() || n.overflow || n.value > 0xfffffffeu) return false;
  out = (unsigned long)n.value;
  return true;
}

reactor::Error bad_line(size_t lineno, const std::string& why) {
  return reactor::perm_error("line " + std::to_string(lineno) + ": " + why);
}

}  // namespace

reactor::Result<std::vector<std::pair<std::string, VpwEntry>>> parse_vpasswd(std::string_view text) {
  std::vector<std::pair<std::string, VpwEntry>> out;
  std::set<std::string> seen;
  size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::string_view f[4];
    for (auto& field : f) {
      size_t c = line.find(':');
      if (c == std::string_view::npos)
        return bad_line(lineno, "expected user@domain:hash:uid:gid:dir");
      field = line.substr(0, c);
      line.remove_prefix(c + 1);
    }
    // The directory is the rest of the line, so it may contain colons.
    std::string_view dir = line;
    if (f[0].empty()) return bad_line(lineno, "empty login name");
    if (f[1].empty()) return bad_line(lineno, "empty password hash");
    VpwEntry e;
    unsigned long uid = 0, gid = 0;
    if (!parse_id(f[2], uid)) return bad_line(lineno, "bad uid '" + std::string(f[2]) + "'");
    if (!parse_id(f[3], gid)) return bad_line(lineno, "bad gid '" + std::string(f[3]) + "'");
    if (uid == 0) return bad_line(lineno, "uid 0 is not allowed for a POP box");
    if (dir.empty() || dir[0] != '/') return bad_line(lineno, "the directory must be an absolute path");
    std::string key = vpw_key(f[0]);
    if (!seen.insert(key).second) return bad_line(lineno, "duplicate login name '" + key + "'");
    e.hash = std::string(f[1]);
    e.uid = uid_t(uid);
    e.gid = gid_t(gid);
    e.dir = std::string(dir);
    out.emplace_back(std::move(key), std::move(e));
  }
  return out;
}

std::string encode_vpw(const VpwEntry& e) {
  std::string v = e.hash;
  v += '\0';
  v += std::to_string(e.uid);
  v += '\0';
  v += std::to_string(e.gid);
  v += '\0';
  v += e.dir;
  return v;
}

std::optional<VpwEntry> decode_vpw(std::string_view v) {
  std::string_view f[3];
  for (auto& field : f) {
    size_t z = v.find('\0');
    if (z == std::string_view::npos) return std::nullopt;
    field = v.substr(0, z);
    v.remove_prefix(z + 1);
  }
  VpwEntry e;
  unsigned long uid = 0, gid = 0;
  if (f[0].empty() || !parse_id(f[1], uid) || !parse_id(f[2], gid) || v.empty()) return std::nullopt;
  e.hash = std::string(f[0]);
  e.uid = uid_t(uid);
  e.gid = gid_t(gid);
  e.dir = std::string(v);
  return e;
}

reactor::Status build_vpasswd(const std::string& text_path, const std::string& cdb_path) {
  auto text = reactor::read_file(text_path);
  if (!text) return reactor::temp_error("unable to read " + text_path + ": " + text.error().text);
  auto entries = parse_vpasswd(*text);
  if (!entries) return reactor::perm_error(text_path + ": " + entries.error().text);
  reactor::CdbWriter w;
  // The database holds password hashes: readable by its owner only.
  if (auto s = w.create(cdb_path, 0600); !s) return s;
  for (const auto& [key, e] : *entries) {
    if (auto s = w.add(key, encode_vpw(e)); !s) return s;
  }
  return w.commit();
}

reactor::Result<std::optional<VpwEntry>> lookup_vpw(const std::string& cdb_path,
                                                     std::string_view login) {
  reactor::CdbReader r;
  if (auto s = r.open(cdb_path); !s) return reactor::temp_error("unable to open " + cdb_path + ": " + s.error().text);
  auto v = r.find(vpw_key(login));
  if (!v) return std::optional<VpwEntry>();
  auto e = decode_vpw(*v);
  if (!e) return reactor::temp_error(cdb_path + " is damaged");
  return std::optional<VpwEntry>(std::move(*e));
}

}  // namespace pop3
