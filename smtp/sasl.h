#pragma once
// The pieces of SMTP AUTH (RFC 4954) both sides need: base64 (RFC 4648)
// through OpenSSL, and the PLAIN (RFC 4616) and CRAM-MD5 (RFC 2195)
// message forms.

#include <optional>
#include <string>
#include <string_view>

namespace smtp::sasl {

/// Base64 with padding.
std::string base64_encode(std::string_view in);
/// Strict base64: whole quanta, the alphabet, '=' only as padding at the
/// end; nullopt otherwise. "=" alone (RFC 4954's empty response) gives "".
std::optional<std::string> base64_decode(std::string_view in);

/// A PLAIN message "authzid NUL authcid NUL passwd": the user and the
/// password (the authorization identity is ignored, as the smtp-auth
/// patches do); nullopt when it does not have three parts.
struct Credentials {
  std::string user, secret;
};
std::optional<Credentials> parse_plain(std::string_view msg);
/// A CRAM-MD5 response "user SP hexdigest" (split at the last space).
std::optional<Credentials> parse_cram(std::string_view msg);

}  // namespace smtp::sasl
