// users/assign parsing, users/cdb compilation and lookup (see users.h).
#include "spawn/users.h"

#include <cstdlib>

#include "reactor/cdb.h"
#include "reactor/control.h"

namespace spawn {

namespace {

reactor::Error bad_format() { return reactor::perm_error("bad format in users/assign"); }

}  // namespace

reactor::Result<UsersAssign> parse_assign(std::string_view text) {
  UsersAssign out;
  size_t pos = 0;
  for (;;) {
    size_t nl = text.find('\n', pos);
    bool complete = nl != std::string_view::npos;
    std::string_view line = text.substr(pos, complete ? nl - pos : std::string_view::npos);
    pos = complete ? nl + 1 : text.size();
    // Any line starting with '.' ends the file, even without its newline.
    if (!line.empty() && line[0] == '.') break;
    // End of input without the final '.' line: the file was cut short.
    if (!complete) return bad_format();
    if (line.find('\0') != std::string_view::npos) return bad_format();
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad_format();

    UsersRecord rec;
    // The first character only selects the kind; anything but '+' means '='.
    rec.key = "!" + reactor::lowercase(line.substr(1, colon - 1));
    if (line[0] == '+') {
      // qmail-newu records the prefix's last character as written (not
      // lowercased); keep that so our cdb is byte-identical to qmail's.
      if (colon >= 2) {
        char last = line[colon - 1];
        if (out.wildchars.find(last) == std::string::npos) out.wildchars += last;
      }
    } else {
      rec.key += '\0';
    }
    // Six fields follow; colons become NULs and whatever follows the sixth
    // colon (normally nothing) is dropped, so the trailing colon is required.
    std::string_view data = line.substr(colon + 1);
    int colons = 0;
    size_t i = 0;
    for (; i < data.size(); ++i) {
      if (data[i] == ':' && ++colons == 6) break;
    }
    if (colons < 6) return bad_format();
    rec.value.assign(data.substr(0, i));
    for (char& c : rec.value)
      if (c == ':') c = '\0';
    out.records.push_back(std::move(rec));
  }
  return out;
}

reactor::Status write_users_cdb(const UsersAssign& a, const std::string& path) {
  reactor::CdbWriter w;
  if (auto s = w.create(path, 0644); !s) return s;
  for (const auto& r : a.records)
    if (auto s = w.add(r.key, r.value); !s) return s;
  if (auto s = w.add("", a.wildchars); !s) return s;
  return w.commit();
}

std::optional<UserEntry> parse_user_fields(std::string_view v) {
  std::string_view f[6];
  for (int k = 0; k < 6; ++k) {
    size_t z = v.find('\0');
    if (z == std::string_view::npos) {
      // Only the last field may end without a NUL.
      if (k != 5) return std::nullopt;
      f[k] = v;
      v = {};
    } else {
      f[k] = v.substr(0, z);
      v.remove_prefix(z + 1);
    }
  }
  UserEntry e;
  e.user.assign(f[0]);
  // Numbers are read like qmail's scan_ulong: leading digits, the rest ignored.
  e.uid = std::strtoul(std::string(f[1]).c_str(), nullptr, 10);
  e.gid = std::strtoul(std::string(f[2]).c_str(), nullptr, 10);
  e.home.assign(f[3]);
  e.dash.assign(f[4]);
  e.ext.assign(f[5]);
  return e;
}

reactor::Result<std::optional<UserEntry>> lookup_users(const UsersProbe& probe, std::string_view local) {
  auto wild = probe("");
  if (!wild) return wild.error();
  // qmail-newu always writes key ""; a cdb without it is not a users/cdb.
  if (!*wild) return reactor::temp_error("users/cdb has no wildcard record");
  const std::string& wildchars = **wild;

  std::string key = "!" + reactor::lowercase(local);
  key += '\0';
  size_t i = key.size();
  bool flagwild = false;
  do {
    // Wildcard prefixes are only probed when their last character can end
    // one (key ""), except "!" alone, the catch-all `+:` line.
    if (!flagwild || i == 1 || wildchars.find(key[i - 1]) != std::string::npos) {
      auto v = probe(std::string_view(key).substr(0, i));
      if (!v) return v.error();
      if (*v) {
        auto e = parse_user_fields(**v);
        if (!e) return reactor::temp_error("malformed users/cdb record");
        // The extension continues with the rest of the ORIGINAL local part.
        if (flagwild) e->ext.append(local.substr(i - 1));
        return std::optional<UserEntry>(std::move(*e));
      }
    }
    --i;
    flagwild = true;
  } while (i);
  return std::optional<UserEntry>();
}

reactor::Result<std::optional<UserEntry>> lookup_users_cdb(const std::string& path, std::string_view local) {
  reactor::CdbReader cdb;
  if (auto s = cdb.open(path); !s) {
    if (!s.error().temporary) return std::optional<UserEntry>();  // ENOENT: no users/cdb
    return s.error();
  }
  UsersProbe probe = [&cdb](std::string_view key) -> reactor::Result<std::optional<std::string>> {
    return cdb.find(key);
  };
  return lookup_users(probe, local);
}

}  // namespace spawn
