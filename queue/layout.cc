// Queue layout (see layout.h).
#include "queue/layout.h"

namespace queue {

const char* dir_name(Dir d) {
  switch (d) {
    case Dir::pid: return "pid";
    case Dir::mess: return "mess";
    case Dir::intd: return "intd";
    case Dir::todo: return "todo";
    case Dir::info: return "info";
    case Dir::local: return "local";
    case Dir::remote: return "remote";
    case Dir::bounce: return "bounce";
    case Dir::lock: return "lock";
  }
  return "?";
}

bool is_split(Dir d) { return d == Dir::mess || d == Dir::info || d == Dir::local || d == Dir::remote; }

std::string split_name(MsgId n, int split) {
  return std::to_string(n % static_cast<MsgId>(split)) + "/" + std::to_string(n);
}

std::string msg_path(Dir d, MsgId n, int split) {
  std::string p = dir_name(d);
  p += '/';
  if (is_split(d)) return p + split_name(n, split);
  return p + std::to_string(n);
}

bool parse_msgid(const std::string& name, MsgId& out) {
  if (name.empty() || name.size() > 19) return false;
  MsgId v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<MsgId>(c - '0');
  }
  out = v;
  return true;
}

const DirSpec* dir_specs(size_t& count) {
  // Modes and owners from qmail 1.03's hier.c (queue.md section 1).
  static const DirSpec specs[] = {
      {Dir::pid, Account::qmailq, 0700},   {Dir::intd, Account::qmailq, 0700},
      {Dir::todo, Account::qmailq, 0750},  {Dir::bounce, Account::qmails, 0700},
      {Dir::mess, Account::qmailq, 0750},  {Dir::info, Account::qmails, 0700},
      {Dir::local, Account::qmails, 0700}, {Dir::remote, Account::qmails, 0700},
      {Dir::lock, Account::qmailq, 0750},
  };
  count = sizeof specs / sizeof specs[0];
  return specs;
}

}  // namespace queue
