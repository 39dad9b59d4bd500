// Unit tests of the TLS layer (tls.h): two sessions in memory, a server and
// a client, with certificates made here.
#include "reactor/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

using namespace reactor::tls;

namespace {

// A temporary directory, removed with its files at the end.
struct TmpDir {
  std::string path;
  TmpDir() {
    char t[] = "/tmp/evq-tls-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TmpDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// Writes a self-signed P-256 certificate for `name` and its key into one PEM file.
void make_cert(const std::string& file, const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(std::rand() & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  bool ip = name.find_first_not_of("0123456789.") == std::string::npos;
  std::string san = (ip ? "IP:" : "DNS:") + name;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
  REQUIRE(ext);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  FILE* f = std::fopen(file.c_str(), "w");
  REQUIRE(f);
  PEM_write_X509(f, x);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

// Moves ciphertext both ways until neither side has any to send.
void pump(Session& a, Session& b, std::string& a_plain, std::string& b_plain) {
  for (int round = 0; round < 50; ++round) {
    a.read(a_plain);
    b.read(b_plain);
    std::string ab = a.take_cipher(), ba = b.take_cipher();
    if (ab.empty() && ba.empty()) return;
    b.put_cipher(ab);
    a.put_cipher(ba);
  }
}

}  // namespace

TEST_CASE("tls: a handshake in memory, then data both ways") {
  TmpDir d;
  make_cert(d.path + "/servercert.pem", "mail.example.org");
  auto sctx = Context::server(d.path + "/servercert.pem");
  REQUIRE(sctx);
  auto cctx = Context::client({}, d.path + "/servercert.pem");
  REQUIRE(cctx);
  Session server(*sctx, Session::Role::server);
  Session client(*cctx, Session::Role::client, "mail.example.org", true);
  // Written before the handshake: waits, then goes out encrypted.
  REQUIRE(client.write("EHLO early\r\n"));
  std::string sp, cp;
  pump(client, server, cp, sp);
  REQUIRE(server.handshake_done());
  REQUIRE(client.handshake_done());
  CHECK(sp == "EHLO early\r\n");
  CHECK(server.write("250 ok\r\n"));
  pump(client, server, cp, sp);
  CHECK(cp == "250 ok\r\n");
  CHECK((server.version() == "TLSv1.3" || server.version() == "TLSv1.2"));
  CHECK_FALSE(server.cipher().empty());
  CHECK(server.bits() >= 128);
  CHECK_FALSE(client.verify_error());
  // close_notify reaches the other side.
  client.shutdown();
  pump(client, server, cp, sp);
  CHECK(server.peer_closed());
}

TEST_CASE("tls: the client sees a certificate that does not fit the name") {
  TmpDir d;
  make_cert(d.path + "/cert.pem", "mail.example.org");
  auto sctx = Context::server(d.path + "/cert.pem");
  REQUIRE(sctx);
  make_cert(d.path + "/other.pem", "other.example.org");
  for (auto [ca, name] : {std::pair<std::string, std::string>{d.path + "/cert.pem", "wrong.example.org"},
                          std::pair<std::string, std::string>{d.path + "/other.pem", "mail.example.org"}}) {
    auto cctx = Context::client({}, ca);
    REQUIRE(cctx);
    Session server(*sctx, Session::Role::server);
    Session client(*cctx, Session::Role::client, name, true);
    std::string sp, cp;
    pump(client, server, cp, sp);
    REQUIRE(client.handshake_done());
    CHECK(client.verify_error().has_value());
  }
}

TEST_CASE("tls: a certificate for an address is checked against the address") {
  TmpDir d;
  make_cert(d.path + "/cert.pem", "192.0.2.9");
  auto sctx = Context::server(d.path + "/cert.pem");
  REQUIRE(sctx);
  auto cctx = Context::client({}, d.path + "/cert.pem");
  REQUIRE(cctx);
  for (auto [addr, ok] : {std::pair<const char*, bool>{"192.0.2.9", true}, {"192.0.2.10", false}}) {
    Session server(*sctx, Session::Role::server);
    Session client(*cctx, Session::Role::client, addr, true);
    std::string sp, cp;
    pump(client, server, cp, sp);
    REQUIRE(client.handshake_done());
    CHECK(client.verify_error().has_value() == !ok);
  }
}

TEST_CASE("tls: garbage and old protocol versions fail the handshake with a reason") {
  TmpDir d;
  make_cert(d.path + "/cert.pem", "mail.example.org");
  auto sctx = Context::server(d.path + "/cert.pem");
  REQUIRE(sctx);
  Session s(*sctx, Session::Role::server);
  s.put_cipher("GET / HTTP/1.0\r\n\r\n");
  std::string p;
  CHECK_FALSE(s.read(p));
  CHECK(s.failed());
  CHECK(s.error().rfind("handshake failed: ", 0) == 0);
  // A client that speaks TLS 1.1 at most.
  auto cctx = Context::client();
  REQUIRE(cctx);
  SSL_CTX_set_min_proto_version((*cctx)->raw(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version((*cctx)->raw(), TLS1_1_VERSION);
  SSL_CTX_set_security_level((*cctx)->raw(), 0);
  Session old_server(*sctx, Session::Role::server);
  Session old_client(*cctx, Session::Role::client, "mail.example.org");
  std::string a, b;
  pump(old_client, old_server, a, b);
  CHECK_FALSE(old_server.handshake_done());
  CHECK((old_server.failed() || old_client.failed()));
}

TEST_CASE("tls: a changed certificate file is used for new connections") {
  TmpDir d;
  std::string file = d.path + "/servercert.pem";
  make_cert(file, "old.example.org");
  auto sctx = Context::server(file);
  REQUIRE(sctx);
  CHECK((*sctx)->reload_if_changed());  // unchanged: nothing to do
  make_cert(d.path + "/new.pem", "new.example.org");
  REQUIRE(std::rename((d.path + "/new.pem").c_str(), file.c_str()) == 0);
  std::system(("cp '" + file + "' '" + d.path + "/ca.pem'").c_str());
  REQUIRE((*sctx)->reload_if_changed());
  auto cctx = Context::client({}, d.path + "/ca.pem");
  REQUIRE(cctx);
  Session server(*sctx, Session::Role::server);
  Session client(*cctx, Session::Role::client, "new.example.org", true);
  std::string sp, cp;
  pump(client, server, cp, sp);
  REQUIRE(client.handshake_done());
  CHECK_FALSE(client.verify_error());
  // A file that no longer loads keeps the certificate in use.
  { std::ofstream(file) << "not a certificate\n"; }
  CHECK_FALSE((*sctx)->reload_if_changed());
  Session again(*sctx, Session::Role::server);
  Session client2(*cctx, Session::Role::client, "new.example.org", true);
  pump(client2, again, cp, sp);
  CHECK(again.handshake_done());
}

TEST_CASE("tls: cipher lists from a control file") {
  TmpDir d;
  CHECK(*read_ciphers(d.path + "/missing") == "");
  { std::ofstream(d.path + "/tlsserverciphers") << "ECDHE-ECDSA-AES256-GCM-SHA384\nTLS_AES_256_GCM_SHA384\n"; }
  auto c = read_ciphers(d.path + "/tlsserverciphers");
  REQUIRE(c);
  CHECK(*c == "ECDHE-ECDSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384");
  make_cert(d.path + "/cert.pem", "mail.example.org");
  CHECK(Context::server(d.path + "/cert.pem", {}, *c));
  auto bad = Context::server(d.path + "/cert.pem", {}, "NO-SUCH-CIPHER");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().text.find("no usable cipher") != std::string::npos);
  auto missing = Context::server(d.path + "/nothere.pem");
  CHECK_FALSE(missing);
}
