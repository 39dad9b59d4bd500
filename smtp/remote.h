#pragma once
// One run of qmail-remote(8): control files, routing (smtproutes, MX, A),
// connection attempts with timeoutconnect and tcpto, then the SMTP session
// (smtp::Client) on a reactor::Stream, streaming the message from an fd;
// STARTTLS or implicit TLS through a reactor::tls::Session between the two,
// with the qmail-tls patch's per-host policy (control/tlshosts/...).

#include <memory>
#include <string>
#include <vector>

#include "reactor/loop.h"
#include "reactor/result.h"
#include "reactor/stream.h"
#include "reactor/tls.h"
#include "smtp/client.h"
#include "smtp/dns.h"
#include "smtp/route.h"

namespace smtp {

/// qmail-remote's settings (control files and the test/relay aids).
struct RemoteConfig {
  std::string helohost;
  std::vector<std::string> routes;  ///< control/smtproutes entries
  double timeout_connect = 60;      ///< control/timeoutconnect
  double timeout_remote = 1200;     ///< control/timeoutremote
  unsigned port = 25;               ///< $SMTPPORT, else 25; an smtproutes port wins
  std::string dns_servers;          ///< $DNSSERVERS, else /etc/resolv.conf
  std::string tls_ciphers;          ///< control/tlsclientciphers ("" = OpenSSL's default)
  std::string client_cert;          ///< "control/clientcert.pem" if it exists, else ""
};

/// The qmail-tls patch's client policy for the host named `name` (cwd =
/// QMAILHOME): tlshosts/<name>.pem → required (that file names the CA);
/// notlshosts/<name> → off; tlshosts/exhaustivelist → off for hosts
/// without a .pem; else opportunistic. `ca_file` gets the .pem's path.
TlsPolicy tls_policy_for(const std::string& name, std::string* ca_file);

/// Reads the control files (cwd = QMAILHOME) and the environment. An error
/// means qmail's "Unable to read control files".
reactor::Result<RemoteConfig> load_remote_config();

/// Fixed report texts of qmail-remote [COMPAT].
namespace text {
inline constexpr const char* kTempControl = "ZUnable to read control files. (#4.3.0)\n";
inline constexpr const char* kTempDns = "ZSorry, I couldn't find any host by that name. (#4.1.2)\n";
inline constexpr const char* kTempDnsCanon = "ZCNAME lookup failed temporarily. (#4.4.3)\n";  // 1.03 only
// [WEAKNESS] qmail-remote writes any address into its commands; these
// refuse what would change the command line (CR, LF, other controls).
inline constexpr const char* kUnsafeSender =
    "DSorry, the envelope sender contains characters that SMTP cannot carry. (#5.1.7)\n";
inline constexpr const char* kUnsafeRecipient =
    "hSorry, this address contains characters that SMTP cannot carry. (#5.1.3)\n";
inline constexpr const char* kNoSafeRecipient =
    "DSorry, no recipient address can be carried over SMTP. (#5.1.3)\n";
inline constexpr const char* kPermNoMx = "DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n";
inline constexpr const char* kPermAmbigMx =
    "DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
    "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n";
inline constexpr const char* kTempNoConn = "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n";
inline constexpr const char* kTempOsErr = "ZSystem resources temporarily unavailable. (#4.3.0)\n";
inline constexpr const char* kPermUsage = "DI (qmail-remote) was invoked improperly. (#5.3.5)\n";
inline constexpr const char* kTempChdir = "ZUnable to switch to home directory. (#4.3.0)\n";
}  // namespace text
/// "DSorry, I couldn't find any host named <host>. (#5.1.2)\n" (host made printable).
std::string perm_dns_text(const std::string& host);

/// One delivery attempt. Drive the loop until finished(); output() is then
/// the complete report stream (each report NUL-terminated).
class Remote {
 public:
  Remote(reactor::Loop& loop, RemoteConfig cfg, std::string host, std::string sender,
         std::vector<std::string> recipients, int message_fd);
  ~Remote();
  Remote(const Remote&) = delete;
  Remote& operator=(const Remote&) = delete;
  void start();
  bool finished() const { return finished_; }
  const std::string& output() const { return output_; }

 private:
  void fail(const std::string& report);
  void resolved_targets(std::vector<Target> all);
  void on_mx(MxAnswer ans);
  void try_next();
  void on_connect_ready(bool timed_out);
  void start_session();
  void start_tls();
  void on_cipher(std::string_view bytes);
  void flush_cipher();
  void pump();
  void finish_session();

  reactor::Loop& loop_;
  RemoteConfig cfg_;
  std::string host_;
  std::string sender_;
  std::vector<std::string> recipients_;
  int message_fd_;
  bool relay_ = false;
  unsigned port_;
  Relay relay_info_;            ///< the smtproutes entry (credentials) if relay_
  std::unique_ptr<Resolver> resolver_;
  std::vector<Target> targets_;
  size_t next_target_ = 0;
  int pending_a_ = 0;           ///< outstanding A lookups of MX names
  bool soft_a_ = false;         ///< one of them failed temporarily
  std::vector<std::vector<std::string>> mx_ips_;
  std::vector<Mx> mx_;
  // The current connection attempt.
  int sock_ = -1;
  bool was_there_ = false;
  std::string partner_;
  std::string partner_name_;    ///< MX or relay name of partner_ (TLS policy key)
  std::unique_ptr<reactor::Io> connect_io_;
  std::unique_ptr<reactor::Timer> connect_timer_;
  std::unique_ptr<reactor::Stream> stream_;
  std::unique_ptr<Client> client_;
  // TLS on the current connection: policy, CA file and the session.
  TlsPolicy tls_policy_ = TlsPolicy::off;
  std::string tls_ca_;
  std::unique_ptr<reactor::tls::Session> tls_;
  bool tls_up_ = false;         ///< handshake finished
  bool pumping_ = false;
  bool finished_ = false;
  std::string output_;
};

}  // namespace smtp
