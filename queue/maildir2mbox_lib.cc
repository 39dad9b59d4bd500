// maildir2mbox and Maildir helpers (see maildir2mbox_lib.h).
#include "queue/maildir2mbox_lib.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/control.h"
#include "reactor/fd.h"

namespace queue {

std::string mbox_ctime(time_t t) {
  static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[64];
  snprintf(b, sizeof b, "%s %s %02d %02d:%02d:%02d %d\n", days[tm.tm_wday], months[tm.tm_mon],
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 1900 + tm.tm_year);
  return b;
}

std::string mbox_from_line(std::string_view first, time_t t) {
  std::string from = "From XXX ";
  constexpr std::string_view rp = "Return-Path: <";
  // As maildir2mbox.c: only a complete first line counts, and the address is
  // everything between "<" and the last two bytes (">" and LF).
  if (!first.empty() && first.back() == '\n' && first.substr(0, rp.size()) == rp &&
      first.size() > rp.size()) {
    if (first[rp.size()] == '>') {
      from = "From MAILER-DAEMON ";
    } else {
      from = "From ";
      for (size_t i = rp.size(); i + 2 < first.size(); ++i)
        from += (first[i] == ' ' || first[i] == '\t') ? '-' : first[i];
      from += ' ';
    }
  }
  return from + mbox_ctime(t);
}

namespace {
// qmail's gfrom: ">*From " needs one more '>' in an mbox.
bool needs_quote(std::string_view line) {
  while (!line.empty() && line.front() == '>') line.remove_prefix(1);
  return line.substr(0, 5) == "From ";
}
}  // namespace

void append_mbox_message(std::string& out, std::string_view msg, time_t t) {
  size_t nl = msg.find('\n');
  out += mbox_from_line(nl == std::string_view::npos ? msg : msg.substr(0, nl + 1), t);
  while (!msg.empty()) {
    nl = msg.find('\n');
    std::string_view line = nl == std::string_view::npos ? msg : msg.substr(0, nl + 1);
    msg.remove_prefix(line.size());
    if (needs_quote(line)) out += '>';
    out += line;
    if (line.back() != '\n') out += '\n';  // a last line without LF is completed
  }
  out += '\n';
}

namespace {
reactor::Status append_dir(const std::string& maildir, const char* sub, time_t now,
                           std::vector<MboxSource>& out) {
  std::string dir = maildir + "/" + sub;
  DIR* d = opendir(dir.c_str());
  if (!d) return reactor::temp_error(std::string("unable to scan $MAILDIR/") + sub + ": " +
                                     reactor::errno_text(errno));
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string rel = std::string(sub) + "/" + e->d_name;
    struct stat st;
    // Messages of the current second wait: a later one of the same second
    // could otherwise come out of order.
    if (stat((maildir + "/" + rel).c_str(), &st) == 0 && st.st_mtime < now)
      out.push_back({rel, st.st_mtime});
    errno = 0;
  }
  int err = errno;
  closedir(d);
  if (err) return reactor::temp_error(std::string("unable to read $MAILDIR/") + sub + ": " +
                                      reactor::errno_text(err));
  return {};
}
}  // namespace

reactor::Result<std::vector<MboxSource>> scan_maildir(const std::string& maildir, time_t now,
                                                        bool with_cur) {
  std::vector<MboxSource> v;
  if (auto s = append_dir(maildir, "new", now, v); !s) return s.error();
  if (with_cur)
    if (auto s = append_dir(maildir, "cur", now, v); !s) return s.error();
  std::stable_sort(v.begin(), v.end(),
                   [](const MboxSource& a, const MboxSource& b) { return a.mtime < b.mtime; });
  return v;
}

void clean_maildir_tmp(const std::string& maildir, time_t now) {
  std::string tmp = maildir + "/tmp";
  DIR* d = opendir(tmp.c_str());
  if (!d) return;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string p = tmp + "/" + e->d_name;
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && now > st.st_atime + 129600) unlink(p.c_str());
  }
  closedir(d);
}

reactor::Status maildir_to_mbox(const std::string& maildir, const std::string& mbox,
                                const std::string& mboxtmp, time_t now,
                                std::vector<std::string>& warnings) {
  using reactor::errno_text;
  using reactor::temp_error;
  clean_maildir_tmp(maildir, now);
  auto entries = scan_maildir(maildir, now);
  if (!entries) return entries.error();
  if (entries->empty()) return {};  // nothing new: the mbox is not touched

  // The lock lives on the mbox itself, as mail readers expect.
  reactor::UniqueFd lock(open(mbox.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid() || flock(lock.get(), LOCK_EX) == -1)
    return temp_error("unable to lock " + mbox + ": " + errno_text(errno));
  std::string out;
  auto old = reactor::read_file(mbox, SIZE_MAX);
  if (!old) return temp_error("unable to read " + mbox + ": " + old.error().text);
  out = std::move(*old);
  for (const auto& e : *entries) {
    auto msg = reactor::read_file(maildir + "/" + e.path, SIZE_MAX);
    if (!msg) return temp_error("unable to read $MAILDIR/" + e.path + ": " + msg.error().text);
    append_mbox_message(out, *msg, e.mtime);
  }
  reactor::UniqueFd tmp(open(mboxtmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!tmp.valid()) return temp_error("unable to create " + mboxtmp + ": " + errno_text(errno));
  if (!reactor::write_all(tmp.get(), out) || fsync(tmp.get()) == -1 || close(tmp.release()) == -1)
    return temp_error("unable to write to " + mboxtmp + ": " + errno_text(errno));
  if (rename(mboxtmp.c_str(), mbox.c_str()) == -1)
    return temp_error("unable to move " + mboxtmp + " to " + mbox + ": " + errno_text(errno));
  // Only now, with the mbox safe on disk, do the Maildir copies go.
  for (const auto& e : *entries)
    if (unlink((maildir + "/" + e.path).c_str()) == -1)
      warnings.push_back("$MAILDIR/" + e.path + " will be delivered twice; unable to unlink: " +
                         errno_text(errno));
  return {};
}

std::vector<std::string> header_summary(std::string_view msg) {
  std::vector<std::string> fields;
  std::string cur;
  auto finish = [&] {
    std::string lower = reactor::lowercase(cur.substr(0, 8));
    if (lower.rfind("from:", 0) == 0 || lower.rfind("to:", 0) == 0 || lower.rfind("subject:", 0) == 0)
      fields.push_back(cur.substr(0, 200));
    cur.clear();
  };
  while (!msg.empty()) {
    size_t nl = msg.find('\n');
    std::string_view line = msg.substr(0, nl);
    msg = nl == std::string_view::npos ? std::string_view() : msg.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of header
    bool cont = line[0] == ' ' || line[0] == '\t';
    if (!cont && !cur.empty()) finish();
    for (char c : line) {
      unsigned char u = static_cast<unsigned char>(c);
      if (cur.size() < 1000) cur += (c == '\t') ? ' ' : (u < 32 || u > 126) ? '?' : c;
    }
  }
  if (!cur.empty()) finish();
  return fields;
}

}  // namespace queue
