#pragma once
// The queue directory layout of qmail 1.03 (queue.md section 1): split
// directories `mess info local remote` hold N in subdirectory N % split;
// `intd todo bounce` are flat. Paths here are relative to QMAILHOME/queue.

#include <cstdint>
#include <string>
#include <sys/types.h>

#include "queue/home.h"

namespace queue {

/// Message number: the inode number of mess/S/N.
using MsgId = std::uint64_t;

/// Which queue directory.
enum class Dir { pid, mess, intd, todo, info, local, remote, bounce, lock };

/// Directory name ("mess", "todo", ...).
const char* dir_name(Dir d);
/// True for the split directories (mess, info, local, remote).
bool is_split(Dir d);
/// Relative path of message `n` in directory `d`: "mess/7/30", "todo/30".
std::string msg_path(Dir d, MsgId n, int split = kConfSplit);
/// "S/N": the form the spawn protocol and logs use for mess files.
std::string split_name(MsgId n, int split = kConfSplit);
/// Parses a purely decimal file name into a message number; false if not one.
bool parse_msgid(const std::string& name, MsgId& out);

/// Owner, group and mode of each queue directory as installed by qmail 1.03.
struct DirSpec {
  Dir dir;
  Account owner;
  mode_t mode;
};
/// The table of queue directories (without lock/ contents), in creation order.
const DirSpec* dir_specs(size_t& count);

}  // namespace queue
