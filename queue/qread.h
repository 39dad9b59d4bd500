#pragma once
// The read-only queue tools: qmail-qread(8)'s listing of info/, local/,
// remote/ and bounce/ (tools.md 5) and qmail-qstat(8)'s two counts (tools.md 6).

#include <ctime>
#include <string>
#include <string_view>

#include "queue/home.h"
#include "queue/layout.h"
#include "reactor/result.h"

namespace queue {

/// Bytes outside 32..126 become '_', as qmail-qread prints them.
std::string qread_printable(std::string_view s);
/// "21 Nov 2020 10:56:00 GMT  #30  123  <sender> " (+ " bouncing"), newline included.
std::string qread_stats_line(std::time_t birth, MsgId id, unsigned long size,
                             std::string_view sender, bool bouncing);
/// One line per T/D record of a local or remote channel file ("  done\tremote\taddr\n").
std::string qread_recipients(std::string_view channel_file, bool remote);

/// Writes qmail-qread's listing of the queue at `queue_dirfd` to `out_fd`.
/// Per-message trouble prints "warning: trouble with #N: ..."; returns 0, or
/// 111 after printing "fatal: ..." when an info/ subdirectory cannot be read.
int qread_list(int queue_dirfd, int out_fd, int split = kConfSplit);

/// What qmail-qstat counts.
struct QueueCounts {
  unsigned long messages = 0;  ///< files below mess/*/
  unsigned long todo = 0;      ///< entries below todo/
};
/// Counts the queue at `queue_dirfd`. Error if mess/ or todo/ cannot be read.
reactor::Result<QueueCounts> qstat_counts(int queue_dirfd);
/// "messages in queue: N\nmessages in queue but not yet preprocessed: M\n".
std::string qstat_text(const QueueCounts& c);

}  // namespace queue
