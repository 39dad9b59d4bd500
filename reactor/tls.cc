// TLS over memory BIOs (see tls.h).
#include "reactor/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string_view>

#include "reactor/control.h"

namespace reactor::tls {

namespace {

// Every error OpenSSL queued, oldest first, as one line; the queue is emptied.
std::string openssl_errors() {
  std::string s;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!s.empty()) s += "; ";
    s += buf;
  }
  return s.empty() ? "no further detail" : s;
}

// What tells a replaced or rewritten file: inode, size, modification time.
std::string stamp(const struct stat& st) {
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

Error ssl_error(const std::string& what) { return temp_error(what + ": " + openssl_errors()); }

// What both sides share: TLS 1.2 at least, no compression or renegotiation,
// and buffers released while a connection is idle.
SSL_CTX* new_ctx(bool server) {
  SSL_CTX* c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!c) return nullptr;
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             (server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  return c;
}

// The qmail-tls patch hands one list to both calls; a list of TLS 1.2 names
// leaves the TLS 1.3 suites at their default, and the other way round.
Status set_ciphers(SSL_CTX* c, const std::string& ciphers) {
  if (ciphers.empty()) return {};
  bool v12 = SSL_CTX_set_cipher_list(c, ciphers.c_str()) == 1;
  bool v13 = SSL_CTX_set_ciphersuites(c, ciphers.c_str()) == 1;
  ERR_clear_error();
  if (!v12 && !v13) return temp_error("no usable cipher in \"" + ciphers + "\"");
  return {};
}

}  // namespace

Result<std::string> read_ciphers(const std::string& path) {
  auto lines = control_list(path);
  if (!lines) return lines.error();
  std::string out;
  if (!*lines) return out;
  for (const std::string& l : **lines) {
    if (!out.empty()) out += ':';
    out += l;
  }
  return out;
}

Result<ServerSetup> server_setup(const std::string& cert_file, const std::string& ciphers_file, bool implicit) {
  ServerSetup out;
  const char* disable = std::getenv("DISABLETLS");
  if (!implicit && disable && std::string_view(disable) == "1") return out;
  struct stat st;
  if (::stat(cert_file.c_str(), &st) != 0) return out;
  const char* env_ciphers = std::getenv("TLSCIPHERS");
  auto ciphers = env_ciphers ? Result<std::string>(std::string(env_ciphers)) : read_ciphers(ciphers_file);
  if (!ciphers) return ciphers.error();
  auto ctx = Context::server(cert_file, {}, *ciphers);
  if (ctx)
    out.ctx = *ctx;
  else
    out.warning = ctx.error().text;
  return out;
}

Context::~Context() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Status Context::load_cert() {
  struct stat st;
  if (::stat(cert_file_.c_str(), &st) != 0) return temp_error("unable to stat " + cert_file_);
  SSL_CTX* c = ctx_;
  const std::string& key = key_file_.empty() ? cert_file_ : key_file_;
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(c, cert_file_.c_str()) != 1)
    return ssl_error("unable to load certificate " + cert_file_);
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1)
    return ssl_error("unable to load key " + key);
  if (SSL_CTX_check_private_key(c) != 1) return ssl_error("key does not match certificate " + cert_file_);
  stamp_ = stamp(st);
  return {};
}

Result<std::shared_ptr<Context>> Context::server(const std::string& cert_file, const std::string& key_file,
                                                 const std::string& ciphers) {
  std::shared_ptr<Context> ctx(new Context);
  ctx->cert_file_ = cert_file;
  ctx->key_file_ = key_file;
  ctx->ciphers_ = ciphers;
  ctx->server_ = true;
  ctx->ctx_ = new_ctx(true);
  if (!ctx->ctx_) return ssl_error("unable to make a TLS context");
  if (auto st = set_ciphers(ctx->ctx_, ciphers); !st) return st.error();
  if (auto st = ctx->load_cert(); !st) return st.error();
  return ctx;
}

Result<std::shared_ptr<Context>> Context::client(const std::string& cert_file, const std::string& ca_file,
                                                 const std::string& ciphers) {
  std::shared_ptr<Context> ctx(new Context);
  ctx->ciphers_ = ciphers;
  ctx->ctx_ = new_ctx(false);
  if (!ctx->ctx_) return ssl_error("unable to make a TLS context");
  if (auto st = set_ciphers(ctx->ctx_, ciphers); !st) return st.error();
  ERR_clear_error();
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx->ctx_, ca_file.c_str(), nullptr) != 1)
      return ssl_error("unable to load authorities " + ca_file);
  } else {
    SSL_CTX_set_default_verify_paths(ctx->ctx_);
  }
  if (!cert_file.empty()) {
    ctx->cert_file_ = cert_file;
    if (auto st = ctx->load_cert(); !st) return st.error();
  }
  return ctx;
}

Status Context::reload_if_changed() {
  if (cert_file_.empty()) return {};
  struct stat st;
  if (::stat(cert_file_.c_str(), &st) != 0) return temp_error("unable to stat " + cert_file_);
  if (stamp(st) == stamp_) return {};
  // Load into the context in place: connections made from now on use the
  // new certificate; a file that does not load changes nothing.
  SSL_CTX* fresh = new_ctx(server_);
  if (!fresh) return ssl_error("unable to make a TLS context");
  set_ciphers(fresh, ciphers_);
  SSL_CTX* old = ctx_;
  ctx_ = fresh;
  if (auto st = load_cert(); !st) {
    SSL_CTX_free(fresh);
    ctx_ = old;
    return st;
  }
  SSL_CTX_free(old);
  return {};
}

Session::Session(std::shared_ptr<Context> ctx, Role role, std::string sni, bool verify) : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_->raw());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (!ssl_ || !in_ || !out_) {
    if (in_) BIO_free(in_);
    if (out_) BIO_free(out_);
    in_ = out_ = nullptr;
    fail("unable to start TLS");
    return;
  }
  // An empty memory BIO means "more later", not end of file.
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);
  if (role == Role::server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, sni.c_str(), addr) == 1 || inet_pton(AF_INET6, sni.c_str(), addr) == 1;
    if (is_ip) {
      // No SNI for an address (RFC 6066 3); the certificate must name the
      // address in a subjectAltName IP entry.
      if (verify) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), sni.c_str());
    } else if (!sni.empty()) {
      SSL_set_tlsext_host_name(ssl_, sni.c_str());
      if (verify) SSL_set1_host(ssl_, sni.c_str());
    }
    // Verification is recorded, not enforced: the caller decides from verify_error().
    SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
  }
}

Session::~Session() {
  if (ssl_) SSL_free(ssl_);  // frees both BIOs
}

void Session::fail(const char* what) {
  failed_ = true;
  error_ = std::string(what) + ": " + openssl_errors();
}

void Session::put_cipher(std::string_view bytes) {
  if (failed_ || bytes.empty()) return;
  BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
}

std::string Session::take_cipher() {
  std::string s;
  if (!out_) return s;
  size_t n = BIO_ctrl_pending(out_);
  if (n == 0) return s;
  s.resize(n);
  int r = BIO_read(out_, s.data(), static_cast<int>(n));
  s.resize(r > 0 ? static_cast<size_t>(r) : 0);
  return s;
}

bool Session::cipher_pending() const { return out_ && BIO_ctrl_pending(out_) > 0; }

bool Session::step() {
  if (done_) return true;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    done_ = true;
    if (!pending_plain_.empty()) {
      std::string p;
      p.swap(pending_plain_);
      return write(p);
    }
    return true;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
  fail("handshake failed");
  return false;
}

bool Session::read(std::string& plain) {
  if (failed_) return false;
  if (!step()) return false;
  if (!done_) return true;
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    int r = SSL_read(ssl_, buf, sizeof buf);
    if (r > 0) {
      plain.append(buf, static_cast<size_t>(r));
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
    if (e == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return true;
    }
    fail("read failed");
    return false;
  }
}

bool Session::write(std::string_view plain) {
  if (failed_) return false;
  if (!done_) {
    pending_plain_.append(plain);
    return true;
  }
  while (!plain.empty()) {
    ERR_clear_error();
    int r = SSL_write(ssl_, plain.data(), static_cast<int>(std::min<size_t>(plain.size(), 1 << 20)));
    if (r <= 0) {
      fail("write failed");
      return false;
    }
    plain.remove_prefix(static_cast<size_t>(r));
  }
  return true;
}

void Session::shutdown() {
  if (ssl_ && done_ && !failed_) SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string Session::version() const { return ssl_ && done_ ? SSL_get_version(ssl_) : ""; }

std::string Session::cipher() const { return ssl_ && done_ ? SSL_get_cipher_name(ssl_) : ""; }

int Session::bits() const { return ssl_ && done_ ? SSL_get_cipher_bits(ssl_, nullptr) : 0; }

std::optional<std::string> Session::verify_error() const {
  if (!ssl_ || !done_) return std::string("no handshake");
  if (!SSL_get0_peer_certificate(ssl_)) return std::string("no certificate");
  long r = SSL_get_verify_result(ssl_);
  if (r == X509_V_OK) return std::nullopt;
  return std::string(X509_verify_cert_error_string(r));
}

}  // namespace reactor::tls
