#pragma once
// The spawn pipe protocol between qmail-send and qmail-lspawn / qmail-rspawn
// (queue.md 4.3). One codec used by both ends.
//
//   hello (spawner -> send):  1 byte, the number of delivery slots offered
//   request (send -> spawner): slot byte, "S/N" \0, sender \0, recipient \0
//   report (spawner -> send):  slot byte, status letter K/Z/D, text, \0
//
// Wide slots (an evqmail extension for concurrency above 255): qmail-start
// puts kWideEnv=1 in the spawners' environment; a spawner that offers more
// than 255 slots then says hello with a 0 byte followed by the count as two
// bytes, big-endian, and every slot number in both directions is two bytes,
// big-endian. A classic spawner never sends a 0 hello, so it is unaffected.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace queue::proto {

constexpr const char* kWideEnv = "SPAWN_WIDE_SLOTS";  ///< set by qmail-start for its spawners
constexpr unsigned kMaxWideSlots = 65535;

/// The hello bytes announcing `slots` (wide form only above 255 and if `wide_ok`;
/// at least 1, since a 0 byte starts the wide form).
std::string encode_hello(unsigned slots, bool wide_ok);

/// One delivery request.
struct Request {
  std::uint16_t slot = 0;
  std::string mess;       ///< "S/N", relative to queue/mess
  std::string sender;
  std::string recipient;
};

/// One delivery report.
struct Report {
  std::uint16_t slot = 0;
  char status = 'Z';      ///< 'K' delivered, 'Z' deferred, 'D' failed; anything else is mangled
  std::string text;
};

/// Encodes a request for the wire (two-byte slot if `wide`).
std::string encode_request(const Request& r, bool wide = false);
/// Encodes a report for the wire (text cut at the first NUL; two-byte slot if `wide`).
std::string encode_report(const Report& r, bool wide = false);

constexpr size_t kMaxRequestField = 4096;   ///< cap per request field, NUL excluded (addresses are far shorter)
constexpr size_t kMaxReportText = 10000;    ///< qmail-send's cap on one report

/// Incremental decoder for requests (spawner side). Feed bytes, then poll next().
class RequestDecoder {
 public:
  explicit RequestDecoder(bool wide = false) : wide_(wide) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  /// Next complete request, or nullopt if more bytes are needed.
  /// Sets error() when a field exceeds its cap (the stream is then unusable).
  std::optional<Request> next();
  bool error() const { return error_; }

 private:
  std::string buf_;
  bool wide_;
  bool error_ = false;
};

/// Incremental decoder for reports (qmail-send side). Over-long texts are cut,
/// not rejected, and the remainder is skipped up to the NUL.
class ReportDecoder {
 public:
  explicit ReportDecoder(bool wide = false) : wide_(wide) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  std::optional<Report> next();

 private:
  std::string buf_;
  bool wide_;
  bool skipping_ = false;
  Report pending_;
};

}  // namespace queue::proto
