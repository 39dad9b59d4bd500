#pragma once
// qmail's memory of hosts that time out (remote.md 5): queue/lock/tcpto,
// 64 records of 16 bytes (IPv4 address, timeout count, little-endian time),
// as tcpto.c, tcpto_clean.c, qmail-tcpto and qmail-tcpok use it [COMPAT].

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace smtp::tcpto {

constexpr size_t kFileSize = 1024;  ///< 64 records of 16 bytes
constexpr size_t kRecord = 16;

/// One decoded record.
struct Record {
  std::uint8_t ip[4] = {0, 0, 0, 0};
  unsigned count = 0;       ///< recent consecutive timeouts (0: free slot)
  std::uint32_t when = 0;   ///< time of the last timeout (UNIX seconds)
};

/// Decodes the records of a table image (a partial last record is ignored).
std::vector<Record> decode(std::string_view table);
/// qmail-tcpto's lines: "<ip> timed out <age> seconds ago; # recent timeouts: <n>\n".
std::string listing(std::string_view table, std::uint32_t now);

/// True if `ip` should be skipped now: >= 2 timeouts, the last one younger
/// than (60 + (pid & 31)) * 64 seconds.
bool should_skip(std::string_view table, const std::uint8_t ip[4], std::uint32_t now, int pid);
/// Updates the table image after a connection attempt to `ip` (timeout or
/// not), exactly as qmail's tcpto_err. Returns the index of the record to
/// write back, or -1 if nothing changed. `was_there` is should_skip's finding.
int record_result(std::string& table, const std::uint8_t ip[4], bool timed_out, std::uint32_t now, bool was_there);
/// True if `ip` has a record in the table.
bool present(std::string_view table, const std::uint8_t ip[4]);

// ---- the file (relative to QMAILHOME) -------------------------------------

constexpr const char* kPath = "queue/lock/tcpto";
/// qmail-remote's check before connecting (false on any file problem).
bool file_skip(const std::string& ip, bool& was_there);
/// qmail-remote's update after an attempt (silently nothing on file problems).
void file_record(const std::string& ip, bool timed_out, bool was_there);
/// qmail-tcpto: the listing, or an error.
reactor::Result<std::string> file_listing();
/// qmail-tcpok / qmail-rspawn at start: zero the table. `path` relative to cwd.
reactor::Status file_clear(const std::string& path = kPath);

}  // namespace smtp::tcpto
