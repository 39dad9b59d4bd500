// Configuration of the SMTP and QMTP servers (see smtpd_config.h).
#include "smtp/smtpd_config.h"

#include <cstdlib>

#include "reactor/control.h"

namespace smtp {

EnvFn process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Peer peer_from_env(const EnvFn& env) {
  Peer p;
  if (auto v = env("TCPREMOTEIP")) p.remoteip = *v;
  if (auto v = env("TCPREMOTEHOST")) p.remotehost = *v;
  p.remoteinfo = env("TCPREMOTEINFO");
  if (auto v = env("TCPLOCALHOST")) p.local = *v;
  else if (auto w = env("TCPLOCALIP")) p.local = *w;
  return p;
}

reactor::Result<unsigned long> load_databytes(const std::string& dir, const EnvFn& env) {
  auto n = reactor::control_number(dir + "/databytes");
  if (!n) return n.error();
  unsigned long databytes = n->value_or(0);
  if (auto v = env("DATABYTES")) databytes = std::strtoul(v->c_str(), nullptr, 10);  // scan_ulong: junk is 0
  return databytes;
}

reactor::Result<SmtpdConfig> load_smtpd_config(const std::string& dir, const EnvFn& env) {
  SmtpdConfig c;
  auto me = reactor::control_line(dir + "/me");
  if (!me) return me.error();
  auto greet = reactor::control_line(dir + "/smtpgreeting");
  if (!greet) return greet.error();
  if (*greet) c.greeting = **greet;
  else if (*me) c.greeting = **me;
  else return reactor::temp_error("no control/smtpgreeting and no control/me");
  auto liph = reactor::control_line(dir + "/localiphost");
  if (!liph) return liph.error();
  if (*liph) c.localiphost = **liph;
  else if (*me) c.localiphost = **me;
  auto t = reactor::control_number(dir + "/timeoutsmtpd");
  if (!t) return t.error();
  c.timeout = static_cast<unsigned>(t->value_or(1200));
  if (c.timeout == 0) c.timeout = 1;
  auto bmf = reactor::control_list(dir + "/badmailfrom");
  if (!bmf) return bmf.error();
  if (*bmf)
    for (const auto& e : **bmf) c.badmailfrom.insert(reactor::lowercase(e));
  auto db = load_databytes(dir, env);
  if (!db) return db.error();
  c.databytes = *db;
  c.peer = peer_from_env(env);
  c.relayclient = env("RELAYCLIENT");
  return c;
}

}  // namespace smtp
