// Date formatting (see date822.h).
#include "queue/date822.h"

#include <cstdio>

namespace queue {

namespace {
const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

std::string fmt(const struct tm& tm, const char* zone) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d %s %d %02d:%02d:%02d %s", tm.tm_mday, kMonths[tm.tm_mon % 12],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
  return buf;
}
}  // namespace

std::string date822_utc(std::time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  return fmt(tm, "-0000");
}

std::string date822_local(std::time_t t) {
  struct tm tm;
  localtime_r(&t, &tm);
  long off = tm.tm_gmtoff / 60;
  char zone[40];
  std::snprintf(zone, sizeof zone, "%c%02ld%02ld", off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
                (off < 0 ? -off : off) % 60);
  return fmt(tm, zone);
}

std::string date_ctime_utc(std::time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %s %02d %02d:%02d:%02d %d", kDays[tm.tm_wday % 7], kMonths[tm.tm_mon % 12],
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
  return buf;
}

}  // namespace queue
