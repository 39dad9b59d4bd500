#pragma once
// TLS as a transport layer over OpenSSL memory BIOs: the caller moves
// ciphertext between a socket and the session, and plaintext between the
// session and a protocol state machine. Nothing here blocks or touches a
// descriptor, so a per-connection program and an in-loop session can both
// sit on it.
//
// Contexts follow the qmail-tls patch's control files: one PEM file with the
// certificate chain and the key (control/servercert.pem,
// control/clientcert.pem), and a cipher list (control/tlsserverciphers or
// $TLSCIPHERS) that applies to TLS 1.2 and, where the names are TLS 1.3
// suites, to TLS 1.3. Only TLS 1.2 and 1.3 are spoken.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "reactor/result.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace reactor::tls {

/// The default cipher list when none is configured: OpenSSL's, which for
/// TLS 1.2 is forward-secret AEAD suites first.
inline constexpr const char* kDefaultCiphers = "DEFAULT";

/// An SSL_CTX for one side, from files.
class Context {
 public:
  /// A server context from a PEM file holding the certificate chain and its
  /// key (`key_file` empty: the key is in `cert_file` as well).
  static Result<std::shared_ptr<Context>> server(const std::string& cert_file, const std::string& key_file = {},
                                                 const std::string& ciphers = {});
  /// A client context: `cert_file` (optional) is presented to servers that
  /// ask; `ca_file` (optional) holds the authorities to verify against,
  /// else the system's.
  static Result<std::shared_ptr<Context>> client(const std::string& cert_file = {},
                                                 const std::string& ca_file = {},
                                                 const std::string& ciphers = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// For a server context: loads the certificate file again when it was
  /// replaced or rewritten (inode, size or modification time changed); a file that no
  /// longer loads leaves the old one in use (the error is returned).
  Status reload_if_changed();
  SSL_CTX* raw() const { return ctx_; }

 private:
  Context() = default;
  Status load_cert();
  SSL_CTX* ctx_ = nullptr;
  bool server_ = false;
  std::string cert_file_, key_file_, ciphers_;
  std::string stamp_;  ///< inode, size and mtime of cert_file_ when loaded
};

/// Reads a cipher list control file (one or more lines, joined with ':').
/// A missing file gives "" (use the default).
Result<std::string> read_ciphers(const std::string& path);

/// A server's TLS as the qmail-tls patch sets it up for qmail-smtpd and
/// qmail-popup alike.
struct ServerSetup {
  std::shared_ptr<Context> ctx;  ///< null: no TLS on offer
  std::string warning;           ///< why a certificate that exists gives no TLS
};
/// From `cert_file` (control/servercert.pem: none, no TLS) and the cipher
/// list in $TLSCIPHERS, else `ciphers_file` (control/tlsserverciphers).
/// $DISABLETLS=1 turns the offer off unless `implicit` (SMTPS, POP3S: the
/// port is TLS). An error: the cipher file could not be read.
Result<ServerSetup> server_setup(const std::string& cert_file, const std::string& ciphers_file, bool implicit);

/// One TLS connection's state.
class Session {
 public:
  enum class Role { server, client };
  /// `sni`: the name a client asks for (and verifies, with `verify`); an IP
  /// address is not sent, and with `verify` must be in the certificate.
  Session(std::shared_ptr<Context> ctx, Role role, std::string sni = {}, bool verify = false);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Ciphertext that arrived from the peer.
  void put_cipher(std::string_view bytes);
  /// Ciphertext to send to the peer now (may be empty).
  std::string take_cipher();
  /// True while ciphertext waits to be taken.
  bool cipher_pending() const;

  /// Progress: runs the handshake, then decrypts what has arrived into
  /// `plain`. False once the session failed (see error()); a close_notify
  /// from the peer sets peer_closed().
  bool read(std::string& plain);
  /// Encrypts `plain` for the peer (after the handshake; before it, the
  /// bytes wait). False once the session failed.
  bool write(std::string_view plain);
  /// Sends close_notify.
  void shutdown();

  bool handshake_done() const { return done_; }
  bool failed() const { return failed_; }
  bool peer_closed() const { return peer_closed_; }
  /// Why the session failed, for a log line ("handshake failed: ...").
  const std::string& error() const { return error_; }
  /// "TLSv1.3", the cipher's OpenSSL name, and its secret bits (after the handshake).
  std::string version() const;
  std::string cipher() const;
  int bits() const;
  /// For a client with `verify`: nullopt when the server's certificate and
  /// name verified, else why not.
  std::optional<std::string> verify_error() const;

 private:
  bool step();
  void fail(const char* what);
  std::shared_ptr<Context> ctx_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // ciphertext from the peer, read by OpenSSL
  BIO* out_ = nullptr;  // ciphertext for the peer, written by OpenSSL
  std::string pending_plain_;
  bool done_ = false, failed_ = false, peer_closed_ = false;
  std::string error_;
};

}  // namespace reactor::tls
