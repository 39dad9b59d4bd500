#pragma once
// The TLS side of qmail-popup(8): STLS (RFC 2595) and POP3S (RFC 8314).
// qmail-popup runs as root and hands its fds 0/1 to checkpassword and
// qmail-pop3d, which cannot carry an OpenSSL session across exec. So a
// relay process, dropped to qmaild/nofiles, owns the client socket and the
// TLS session and passes plaintext over a socketpair; everyone else speaks
// plain POP3 on that socketpair.

#include <memory>
#include <string>

namespace reactor::tls { class Context; }

namespace pop3 {

/// TLS settings as qmail-popup reads them (the qmail-tls patch's names).
struct PopupTlsConfig {
  std::shared_ptr<reactor::tls::Context> ctx;  ///< null: no TLS on offer
  bool implicit = false;  ///< $POP3S: TLS from the first byte
  bool force = false;     ///< $FORCETLS: no login before TLS
};

/// Reads $DISABLETLS, $POP3S, $FORCETLS, $TLSCIPHERS, control/tlsserverciphers
/// and control/servercert.pem (below the qmail home). A missing certificate
/// means no TLS (as before); one that does not load is logged on fd 2.
PopupTlsConfig load_tls_config();

/// Seconds the TLS handshake may take.
constexpr int kHandshakeTimeout = 120;

/// Forks the relay over fds 0/1 (the client); afterwards fds 0 and 1 of this
/// process are the plaintext end of a socketpair. `skip_plain`: bytes the
/// client sent before its ClientHello (pipelined after STLS) are dropped.
/// False (logged) when the socketpair or fork failed.
bool start_tls_relay(const std::shared_ptr<reactor::tls::Context>& ctx, int timeout,
                     bool skip_plain);

}  // namespace pop3
