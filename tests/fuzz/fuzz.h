#pragma once
// Shared pieces of evqmail's fuzz harnesses (tests/fuzz/*.cc).
//
// Each harness defines LLVMFuzzerTestOneInput and is linked twice: with
// libFuzzer (`make fuzz`, clang, coverage-guided) and with replay.cc, a
// plain driver that runs every file of its seed corpus once (make check).
// A harness asserts its invariants with FUZZ_CHECK, never with assert(),
// so that they hold in every build.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/// Fails the input: prints what broke and aborts (libFuzzer saves the input).
#define FUZZ_CHECK(cond, what)                                                      \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, \
                   (what), #cond);                                                  \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace fuzz {

/// Reads an input from the front: a few bytes of choices, then the rest.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(reinterpret_cast<const char*>(data)), n_(size) {}
  /// One byte of choices (0 when the input is used up).
  uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return static_cast<uint8_t>(*p_++);
  }
  /// Up to `max` bytes: a piece of the stream fed to a state machine.
  std::string_view take(size_t max) {
    size_t k = max < n_ ? max : n_;
    std::string_view s(p_, k);
    p_ += k;
    n_ -= k;
    return s;
  }
  /// Everything not yet taken.
  std::string_view rest() { return take(n_); }
  /// The bytes up to the next `delim` (or the end); the delimiter is used up.
  std::string_view until(char delim) {
    size_t k = 0;
    while (k < n_ && p_[k] != delim) ++k;
    std::string_view s = take(k);
    if (n_ > 0) byte();
    return s;
  }
  bool empty() const { return n_ == 0; }
  size_t left() const { return n_; }

 private:
  const char* p_;
  size_t n_;
};

/// Piece sizes for feeding a stream: a chooser byte picks 1..256 or "all".
inline size_t piece(uint8_t chooser) { return chooser == 0 ? static_cast<size_t>(-1) : chooser; }

}  // namespace fuzz
