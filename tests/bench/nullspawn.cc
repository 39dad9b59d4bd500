// A stand-in for qmail-lspawn that delivers nothing: it speaks the spawn
// pipe protocol (narrow form) on fd 0/1 and answers every request at once
// with success, so that a benchmark measures qmail-send alone.
//   usage (as bin/qmail-lspawn): nullspawn defaultdelivery
#include <string>
#include <unistd.h>

namespace {
bool put(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(1, s.data() + off, s.size() - off);
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}
}  // namespace

int main() {
  const unsigned char slots = 120;
  if (!put(std::string(1, static_cast<char>(slots)))) return 111;
  std::string in, out;
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(0, buf, sizeof buf);
    if (r <= 0) return 0;
    in.append(buf, static_cast<size_t>(r));
    // A request: slot byte, then message, sender and recipient, each ending in NUL.
    size_t pos = 0;
    for (;;) {
      size_t p = pos + 1;
      int fields = 0;
      while (fields < 3 && p <= in.size()) {
        size_t z = in.find('\0', p);
        if (z == std::string::npos) break;
        p = z + 1;
        ++fields;
      }
      if (fields < 3 || pos >= in.size()) break;
      out += in[pos];
      out += "Kdid 0+0+1/\n";
      out += '\0';
      pos = p;
    }
    in.erase(0, pos);
    if (!out.empty() && !put(out)) return 111;
    out.clear();
  }
}
