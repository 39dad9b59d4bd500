#pragma once
// maildir2mbox(1): moving Maildir messages into an mbox file with `From `
// lines built from Return-Path, `>From ` quoting and a copy-then-rename
// update; plus the Maildir scan and header summary shared with
// maildirwatch(1) and qbiff(1).

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace queue {

/// qmail's myctime: "Thu Jan 01 00:00:00 1970\n" in UTC, day zero-padded.
std::string mbox_ctime(time_t t);
/// The From_ line for a message whose first line is `first_line` (with its LF, if any).
std::string mbox_from_line(std::string_view first_line, time_t t);
/// Appends one message as an mbox entry: From_ line, quoted lines, blank line.
void append_mbox_message(std::string& out, std::string_view message, time_t t);

/// A message file in a Maildir to move into the mbox (a name of its own:
/// queue::MaildirEntry of maildir.h is another type, and one name must mean one type).
struct MboxSource {
  std::string path;  ///< "new/..." or "cur/...", relative to the Maildir
  time_t mtime;
};
/// Messages of new/ (and cur/ if `with_cur`) whose mtime is before `now`
/// (later ones may be mid-delivery order-wise), oldest first.
reactor::Result<std::vector<MboxSource>> scan_maildir(const std::string& maildir, time_t now,
                                                        bool with_cur = true);
/// Removes files in tmp/ not accessed for 36 hours.
void clean_maildir_tmp(const std::string& maildir, time_t now);

/// Moves every scanned message of `maildir` into `mbox` via `mboxtmp`;
/// undeletable messages produce warnings ("will be delivered twice").
reactor::Status maildir_to_mbox(const std::string& maildir, const std::string& mbox,
                                const std::string& mboxtmp, time_t now,
                                std::vector<std::string>& warnings);

/// The From:, To: and Subject: fields of a header (unfolded, unprintables as '?', capped).
std::vector<std::string> header_summary(std::string_view message);

}  // namespace queue
