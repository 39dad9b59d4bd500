// SASL helpers (see sasl.h).
#include "smtp/sasl.h"

#include <openssl/evp.h>

namespace smtp::sasl {

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in == "=") return std::string();
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && in[in.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < in.size() - pad; ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

std::optional<Credentials> parse_plain(std::string_view msg) {
  size_t a = msg.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = msg.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  std::string_view pass = msg.substr(b + 1);
  if (pass.find('\0') != std::string_view::npos) return std::nullopt;
  return Credentials{std::string(msg.substr(a + 1, b - a - 1)), std::string(pass)};
}

std::optional<Credentials> parse_cram(std::string_view msg) {
  size_t sp = msg.rfind(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view user = msg.substr(0, sp), digest = msg.substr(sp + 1);
  while (!user.empty() && user.back() == ' ') user.remove_suffix(1);
  if (msg.find('\0') != std::string_view::npos) return std::nullopt;
  return Credentials{std::string(user), std::string(digest)};
}

}  // namespace smtp::sasl
