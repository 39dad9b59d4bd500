#pragma once
// qmail-send's retry schedule (queue.md 4.4) and queue lifetime (4.6):
// next = birth + (floor(sqrt(now - birth)) + skip)^2, skip 10 local / 20 remote.

#include <ctime>

namespace queue {

/// floor(sqrt(x)) for x >= 0.
long long isqrt(long long x);
/// Next try time for channel 0 (local) or 1 (remote) after a pass at `now`.
std::time_t next_retry(std::time_t birth, std::time_t now, int channel);
/// True if a pass at `now` is the message's last chance (Z becomes D).
bool is_dying(std::time_t birth, std::time_t now, unsigned long lifetime);

}  // namespace queue
