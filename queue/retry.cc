// Retry schedule (see retry.h).
#include "queue/retry.h"

namespace queue {

long long isqrt(long long x) {
  if (x <= 0) return 0;
  long long y = 0;
  // Bitwise integer square root: no floating point rounding at large x.
  for (long long bit = 1LL << 31; bit; bit >>= 1) {
    long long t = y | bit;
    if (t <= x / t) y = t;
  }
  return y;
}

std::time_t next_retry(std::time_t birth, std::time_t now, int channel) {
  long long n = birth > now ? 0 : isqrt(static_cast<long long>(now - birth));
  n += channel == 0 ? 10 : 20;
  return birth + static_cast<std::time_t>(n * n);
}

bool is_dying(std::time_t birth, std::time_t now, unsigned long lifetime) {
  return now > birth + static_cast<std::time_t>(lifetime);
}

}  // namespace queue
