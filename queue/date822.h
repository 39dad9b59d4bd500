#pragma once
// Dates in the forms qmail writes: the UTC form of qmail-queue's Received
// line, qmail-inject's Date: and bounces ("21 Nov 2020 10:56:00 -0000"), and
// the ctime-like form of mbox `From ` lines ("Sun Nov 01 10:56:00 2020", day zero-padded as qmail's myctime).

#include <ctime>
#include <string>

namespace queue {

/// "21 Nov 2020 10:56:00 -0000" (UTC, day without leading zero).
std::string date822_utc(std::time_t t);
/// RFC 822 date in local time with numeric zone: "21 Nov 2020 11:56:00 +0100".
std::string date822_local(std::time_t t);
/// "Sat Nov 21 10:56:00 2020" (UTC), as in mbox separator lines.
std::string date_ctime_utc(std::time_t t);

}  // namespace queue
