// queue/lock/tcpto (see tcpto.h). The file is created by the installer; we
// never create it, as qmail never does.
#include "smtp/tcpto.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "reactor/fd.h"

namespace smtp::tcpto {

namespace {

std::uint32_t get_when(const char* r) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(r[8])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(r[9])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(r[10])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(r[11])) << 24;
}

void put_when(char* r, std::uint32_t when) {
  for (int i = 0; i < 4; ++i) r[8 + i] = static_cast<char>((when >> (8 * i)) & 0xff);
}

bool parse_ip(const std::string& s, std::uint8_t ip[4]) {
  in_addr a;
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  std::memcpy(ip, &a.s_addr, 4);
  return true;
}

}  // namespace

std::vector<Record> decode(std::string_view table) {
  std::vector<Record> out;
  for (size_t off = 0; off + kRecord <= table.size() && off < kFileSize; off += kRecord) {
    Record r;
    std::memcpy(r.ip, table.data() + off, 4);
    r.count = static_cast<unsigned char>(table[off + 4]);
    r.when = get_when(table.data() + off);
    out.push_back(r);
  }
  return out;
}

std::string listing(std::string_view table, std::uint32_t now) {
  std::string out;
  for (const auto& r : decode(table)) {
    if (r.count < 1) continue;
    char line[128];
    // qmail prints the age as an unsigned long of (now - when).
    std::snprintf(line, sizeof line, "%u.%u.%u.%u timed out %lu seconds ago; # recent timeouts: %u\n", r.ip[0],
                  r.ip[1], r.ip[2], r.ip[3], static_cast<unsigned long>(now - r.when), r.count);
    out += line;
  }
  return out;
}

bool present(std::string_view table, const std::uint8_t ip[4]) {
  for (size_t off = 0; off + kRecord <= table.size(); off += kRecord)
    if (std::memcmp(table.data() + off, ip, 4) == 0) return true;
  return false;
}

bool should_skip(std::string_view table, const std::uint8_t ip[4], std::uint32_t now, int pid) {
  for (size_t off = 0; off + kRecord <= table.size(); off += kRecord) {
    const char* r = table.data() + off;
    if (std::memcmp(r, ip, 4) != 0) continue;
    if (static_cast<unsigned char>(r[4]) < 2) return false;
    // First matching record decides; the window is ~64-97 minutes by pid.
    return now - get_when(r) < static_cast<std::uint32_t>((60 + (pid & 31)) << 6);
  }
  return false;
}

int record_result(std::string& table, const std::uint8_t ip[4], bool timed_out, std::uint32_t now, bool was_there) {
  if (!timed_out && !was_there) return -1;  // qmail: not worth looking
  size_t n = std::min(table.size(), kFileSize) / kRecord;
  for (size_t i = 0; i < n; ++i) {
    char* r = table.data() + i * kRecord;
    if (std::memcmp(r, ip, 4) != 0) continue;
    if (!timed_out) {
      r[4] = 0;
    } else {
      // Timeouts closer than two minutes count once (parallel attempts).
      if (r[4] && now < 120 + get_when(r)) return -1;
      unsigned c = static_cast<unsigned char>(r[4]) + 1;
      r[4] = static_cast<char>(c > 10 ? 10 : c);
      put_when(r, now);
    }
    return static_cast<int>(i);
  }
  if (!timed_out || n == 0) return -1;
  // A new record: the first free slot, else the one whose time plus
  // count * 1024 seconds is oldest.
  size_t pick = n;
  for (size_t i = 0; i < n; ++i)
    if (!table[i * kRecord + 4]) { pick = i; break; }
  if (pick == n) {
    long long best = 0;
    for (size_t i = 0; i < n; ++i) {
      const char* r = table.data() + i * kRecord;
      long long w = static_cast<long long>(get_when(r)) + (static_cast<long long>(static_cast<unsigned char>(r[4])) << 10);
      if (pick == n || w < best) { pick = i; best = w; }
    }
  }
  char* r = table.data() + pick * kRecord;
  std::memcpy(r, ip, 4);
  put_when(r, now);
  r[4] = 1;
  return static_cast<int>(pick);
}

namespace {

// Opens and locks the table like qmail's getbuf(): write fd for the lock,
// then reads the image. False if the file is unusable.
bool load(reactor::UniqueFd& lock, std::string& table) {
  lock.reset(::open(kPath, O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!lock.valid()) return false;
  if (::flock(lock.get(), LOCK_EX) != 0) return false;
  reactor::UniqueFd rd(::open(kPath, O_RDONLY | O_CLOEXEC));
  if (!rd.valid()) return false;
  table.clear();
  if (!reactor::read_all(rd.get(), table, kFileSize)) return false;
  if (table.size() > kFileSize) table.resize(kFileSize);
  return true;
}

}  // namespace

bool file_skip(const std::string& ip, bool& was_there) {
  was_there = false;
  std::uint8_t a[4];
  if (!parse_ip(ip, a)) return false;
  reactor::UniqueFd lock;
  std::string table;
  if (!load(lock, table)) return false;
  was_there = present(table, a);
  return should_skip(table, a, static_cast<std::uint32_t>(::time(nullptr)), ::getpid());
}

void file_record(const std::string& ip, bool timed_out, bool was_there) {
  std::uint8_t a[4];
  if (!parse_ip(ip, a)) return;
  if (!timed_out && !was_there) return;
  reactor::UniqueFd lock;
  std::string table;
  if (!load(lock, table)) return;
  int i = record_result(table, a, timed_out, static_cast<std::uint32_t>(::time(nullptr)), was_there);
  if (i < 0) return;
  off_t at = static_cast<off_t>(i) * static_cast<off_t>(kRecord);
  if (::lseek(lock.get(), at, SEEK_SET) == at)
    (void)!::write(lock.get(), table.data() + static_cast<size_t>(i) * kRecord, kRecord);
}

reactor::Result<std::string> file_listing() {
  reactor::UniqueFd lock;
  std::string table;
  if (!load(lock, table)) return reactor::temp_error("unable to read tcpto: " + reactor::errno_text(errno));
  return listing(table, static_cast<std::uint32_t>(::time(nullptr)));
}

reactor::Status file_clear(const std::string& path) {
  reactor::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return reactor::temp_error("unable to write " + path + ": " + reactor::errno_text(errno));
  if (::flock(fd.get(), LOCK_EX) != 0)
    return reactor::temp_error("unable to lock " + path + ": " + reactor::errno_text(errno));
  std::string zeros(kFileSize, '\0');
  if (!reactor::write_all(fd.get(), zeros))
    return reactor::temp_error("unable to clear " + path + ": " + reactor::errno_text(errno));
  return {};
}

}  // namespace smtp::tcpto
