#pragma once
// Decoding of the envelope files qmail-send reads (queue.md 1, 2.1, 4.1):
// todo/intd records (u, p, F, T, each \0-terminated), the info file's F record
// and the T/D records of local/remote channel files with their byte offsets.

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace queue {

/// One \0-terminated envelope record: its type byte, the rest, and where it starts.
struct EnvRecord {
  char type = 0;        ///< 'u', 'p', 'F', 'T', 'D' (0 for an empty record)
  std::string value;    ///< the bytes after the type byte
  off_t offset = 0;     ///< byte offset of the type byte in the file
};

/// Splits `data` into complete records; a trailing record without \0 is
/// ignored (it is incomplete). `complete` tells whether the data ended on a \0.
std::vector<EnvRecord> split_records(std::string_view data, bool* complete = nullptr);

/// The sender of an info file ("F<sender>\0"); false if the first record is not F.
bool parse_info(std::string_view data, std::string& sender);

/// The whole contents of an info file for `sender`.
std::string encode_info(std::string_view sender);

}  // namespace queue
