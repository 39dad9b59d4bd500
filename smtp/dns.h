#pragma once
// DNS for qmail-remote(8) through c-ares, driven by the libev loop: MX and
// A lookups with qmail's three outcomes (found, permanent, temporary).
// Servers come from /etc/resolv.conf, or from $DNSSERVERS ("ip[:port],...").

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/loop.h"
#include "reactor/result.h"
#include "smtp/route.h"

namespace smtp {

/// How a lookup ended: records found, name or records absent, or try later.
enum class DnsStatus { ok, nxdomain, nodata, temporary };

/// Answer to an MX query.
struct MxAnswer {
  DnsStatus status = DnsStatus::temporary;
  std::vector<Mx> mx;
};
/// Answer to an A or AAAA query (addresses as dotted quads or compact IPv6).
struct AAnswer {
  DnsStatus status = DnsStatus::temporary;
  std::vector<std::string> ips;
};

/// The addresses of a name from its A and AAAA answers: IPv4 first, then
/// IPv6. Any address makes it ok; otherwise NXDOMAIN from the A query is
/// permanent, a temporary failure of either query is temporary, and the
/// rest is "no such records".
AAnswer merge_addresses(AAnswer a, AAnswer aaaa);

/// Maps a c-ares status code to a DnsStatus.
DnsStatus dns_status(int ares_status);

/// True for a host name fit for a log line or an SMTP command: 1 to 255
/// bytes, none of them a blank, a control character, 8-bit, or the
/// backslash c-ares escapes such bytes with.
bool printable_name(std::string_view name);

/// An MX query's outcome from what c-ares hands its callback (`status`, and
/// the answer packet `abuf` of `alen` bytes). An answer that does not parse,
/// or names an exchanger that is not printable_name(), is temporary and
/// carries no records.
MxAnswer mx_answer(int status, const unsigned char* abuf, int alen);
/// The same for an A (`family` AF_INET) or AAAA (AF_INET6) query.
AAnswer address_answer(int family, int status, const unsigned char* abuf, int alen);

/// Which retry settings the resolver must be given because neither
/// resolv.conf's `options` lines nor $RES_OPTIONS set them.  Unset, they take
/// the C library's defaults, the ones qmail's resolver had (5 s, 2 attempts,
/// about 15 s for a silent server), not c-ares's (5 s, 4 tries: 75 s).
struct ResolverDefaults {
  bool timeout = true;   ///< no `timeout:n` seen
  bool attempts = true;  ///< no `attempts:n` seen
};
ResolverDefaults resolver_defaults(std::string_view resolv_conf, std::string_view res_options);
inline constexpr int kResolverTimeoutMs = 5000;
inline constexpr int kResolverAttempts = 2;

/// An asynchronous resolver whose sockets are watched by the loop.
class Resolver {
 public:
  /// `servers`: nullptr or empty for /etc/resolv.conf, else the $DNSSERVERS form.
  static reactor::Result<std::unique_ptr<Resolver>> create(reactor::Loop& loop, const char* servers);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// Looks up the MX records of `name`.
  void mx(const std::string& name, std::function<void(MxAnswer)> done);
  /// Looks up the A records of `name`.
  void a(const std::string& name, std::function<void(AAnswer)> done);
  /// Looks up the AAAA records of `name`.
  void aaaa(const std::string& name, std::function<void(AAnswer)> done);
  /// A and AAAA of `name` in parallel, merged by merge_addresses().
  void addresses(const std::string& name, std::function<void(AAnswer)> done);

 private:
  struct Impl;
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtp
