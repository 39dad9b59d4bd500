// tcpserver's acceptor and per-connection child (see acceptor.h).
#include "reactor/acceptor.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reactor/child.h"
#include "reactor/ident.h"
#include "reactor/rules.h"

namespace reactor {

const char* const kServerUsage =
    "tcpserver: usage: tcpserver [ -146jpPhHrRoOdDqQvUX ] [ -c limit ] [ -x rules.cdb ] [ -B banner ] "
    "[ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] host port program";

namespace {
constexpr const char* kDrop = "tcpserver: warning: dropping connection, ";

void say(const std::string& line) { write_all(2, line); }

[[noreturn]] void drop(int verbosity, const std::string& why) {
  if (verbosity >= 1) say(kDrop + why + "\n");
  _exit(111);
}

std::string opt_text(const char* s) { return s ? s : ""; }
}  // namespace

Result<ServerOptions> parse_server_options(const std::vector<std::string>& args, const char* env_uid,
                                           const char* env_gid) {
  ServerOptions o;
  std::vector<char*> av;
  for (auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  optind = 0;  // glibc: full re-initialisation, so tests may parse repeatedly
  opterr = 0;
  Error usage = perm_error(kServerUsage);
  auto num = [&](unsigned long& out) {
    auto n = parse_number(opt_text(optarg));
    if (!n) return false;
    out = *n;
    return true;
  };
  bool uid_given = false, gid_given = false;
  int opt;
  // '+': options end at the first operand, so the program's own options stay its own.
  while ((opt = getopt(static_cast<int>(args.size()), av.data(), "+146jdDvqQhHrRUXx:t:u:g:l:b:B:c:pPoO")) != -1) {
    switch (opt) {
      case 'b': if (!num(o.backlog)) return usage; o.backlog_given = true; break;
      case 'c': if (!num(o.limit) || o.limit == 0) return usage; break;
      case 'X': o.allow_norules = true; break;
      case 'x': o.rules = optarg; break;
      case 'B': o.banner = optarg; break;
      case 'd': o.nodelay = false; break;
      case 'D': o.nodelay = true; break;
      case 'v': o.verbosity = 2; break;
      case 'q': o.verbosity = 0; break;
      case 'Q': o.verbosity = 1; break;
      case 'P': o.paranoid = false; break;
      case 'p': o.paranoid = true; break;
      case 'O': o.keep_ip_options = false; break;
      case 'o': o.keep_ip_options = true; break;
      case 'H': o.remote_host = false; break;
      case 'h': o.remote_host = true; break;
      case 'R': o.remote_info = false; break;
      case 'r': o.remote_info = true; break;
      case 't': if (!num(o.timeout)) return usage; break;
      case 'U': {
        // ucspi-tcp keeps root when $UID or $GID is missing or garbage;
        // a server meant to drop privileges must not run as root instead.
        auto u = parse_number(opt_text(env_uid)), g = parse_number(opt_text(env_gid));
        if (!env_uid || !env_gid || !u || !g)
          return perm_error("tcpserver: fatal: -U needs $UID and $GID as numbers (envuidgid sets them)");
        o.uid = *u;
        o.gid = *g;
        uid_given = gid_given = true;
        break;
      }
      case 'u': if (!num(o.uid)) return usage; uid_given = true; break;
      case 'g': if (!num(o.gid)) return usage; gid_given = true; break;
      case '1': o.print_port = true; break;
      case '4': o.family = 4; break;
      case '6': o.family = 6; break;
      case 'j': break;  // ucspi-tcp6's -j (jail the lookups) has no meaning here
      case 'l': o.localname = optarg; break;
      default: return usage;
    }
  }
  if (uid_given && !gid_given)
    return perm_error("tcpserver: fatal: -u without -g would keep root's groups; give -g as well");
  size_t i = static_cast<size_t>(optind);
  if (args.size() < i + 3) return usage;
  o.host = args[i];
  o.port = args[i + 1];
  o.argv.assign(args.begin() + static_cast<long>(i) + 2, args.end());
  return o;
}

std::string connection_line(bool deny, pid_t pid, const TcpInfo& t) {
  std::string s = "tcpserver: ";
  s += deny ? "deny " : "ok ";
  s += std::to_string(pid) + " ";
  // Names and ident answers come from strangers: log_safe() keeps the line
  // one parsable line. Addresses are ours (IPv6 keeps its colons).
  s += log_safe(t.local_host.value_or("")) + ":" + log_safe(t.local_ip, true) + ":" + t.local_port + " ";
  s += log_safe(t.remote_host.value_or("")) + ":" + log_safe(t.remote_ip, true) + ":";
  s += log_safe(t.remote_info.value_or("")) + ":" + t.remote_port + "\n";
  return s;
}

std::vector<std::string> connection_env(const std::vector<std::string>& base, const TcpInfo& t,
                                        const std::vector<std::pair<std::string, std::string>>& rule_env) {
  auto env = apply_env(base, tcp_env_changes(t));
  std::vector<EnvChange> extra;
  for (auto& [k, v] : rule_env) extra.push_back({k, v});
  return apply_env(std::move(env), extra);
}

void serve_connection(const ServerOptions& o, int fd, const SockAddr& peer) {
  std::string remote_ip = format_ip(peer);
  if (o.verbosity >= 2) say("tcpserver: pid " + std::to_string(getpid()) + " from " + remote_ip + "\n");
  int one = 1;
  if (!o.keep_ip_options && !is_ipv6(peer)) setsockopt(fd, IPPROTO_IP, IP_OPTIONS, nullptr, 0);
  if (o.nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The banner goes out before any lookup, so a greeting is not delayed by DNS.
  if (!o.banner.empty() && !write_all(fd, o.banner))
    drop(o.verbosity, "unable to print banner: " + errno_text(errno));
  auto local = local_address(fd);
  if (!local) drop(o.verbosity, "unable to get local address: " + errno_text(errno));

  TcpInfo t;
  t.ipv6 = is_ipv6(peer);
  t.local_ip = format_ip(*local);
  t.local_port = std::to_string(address_port(*local));
  t.remote_ip = remote_ip;
  t.remote_port = std::to_string(address_port(peer));
  t.local_host = o.localname ? o.localname : lookup_name(*local);
  // Lookups block only this child, never the acceptor's loop.
  if (o.remote_host) t.remote_host = lookup_name(peer, o.paranoid);
  if (o.remote_info) t.remote_info = ident_lookup(*local, peer, static_cast<double>(o.timeout), o.ident_port);

  RuleAction action;
  if (!o.rules.empty()) {
    auto m = match_rules_file(o.rules, t.remote_ip, t.remote_host, t.remote_info);
    if (!m) {
      bool missing = !m.error().temporary && m.error().text == "ENOENT";
      if (!missing || !o.allow_norules)
        drop(o.verbosity, "unable to read " + o.rules + ": " + (missing ? errno_text(ENOENT) : m.error().text));
    } else if (*m) {
      action = decode_rule((*m)->value);
    }
  }
  if (o.verbosity >= 2) say(connection_line(action.deny, getpid(), t));
  if (action.deny) _exit(100);

  auto env = connection_env(current_env(), t, action.env);
  if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
    drop(o.verbosity, "unable to set up descriptors: " + errno_text(errno));
  if (fd > 1) close(fd);
  reset_signals_for_exec();
  std::vector<char*> argv, envp;
  for (auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  drop(o.verbosity, "unable to run " + o.argv[0] + ": " + errno_text(errno));
}

Acceptor::Acceptor(Loop& loop, ServerOptions opts)
    : loop_(loop), o_(std::move(opts)), io_(loop, [this](int) { on_readable(); }) {
  ev_child_init(&child_w_, &Acceptor::child_thunk, 0, 0);  // pid 0: every child
  child_w_.data = this;
}

Acceptor::~Acceptor() { ev_child_stop(loop_.raw(), &child_w_); }

Status Acceptor::listen() {
  auto port = parse_port(o_.port);
  if (!port) return port.error();
  auto addr = server_address(o_.host, *port, o_.family);
  if (!addr) return addr.error();
  int fd = ::socket(addr->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1) return temp_error("unable to create socket: " + errno_text(errno));
  listen_fd_.reset(fd);
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // "::" listens for IPv4 too (peers appear IPv4-mapped and are shown as IPv4).
  if (addr->family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (::bind(fd, addr->sa(), addr->len) == -1) return temp_error("unable to bind: " + errno_text(errno));
  // Without -b the queue is never shorter than -c: every client up to the
  // limit may arrive at once (MX traffic, one message per connection), and
  // while children start, ucspi-tcp's 20 overflows and each client beyond
  // it waits a second for its SYN to be sent again (as Postfix's master
  // listens with at least its process limit).
  unsigned long backlog = o_.backlog_given ? o_.backlog : std::max(o_.backlog, o_.limit);
  if (backlog > 65535) backlog = 65535;
  if (::listen(fd, static_cast<int>(backlog)) == -1)
    return temp_error("unable to listen: " + errno_text(errno));
  auto local = local_address(fd);
  if (!local) return temp_error("unable to get local address: " + errno_text(errno));
  port_ = address_port(*local);
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  return {};
}

void Acceptor::start() {
  ev_child_start(loop_.raw(), &child_w_);
  status();
  update_watcher();
}

void Acceptor::log(const std::string& line) {
  if (o_.verbosity >= 2) say(line);
}

void Acceptor::status() {
  log("tcpserver: status: " + std::to_string(children_) + "/" + std::to_string(o_.limit) + "\n");
}

void Acceptor::update_watcher() {
  // At the limit the watcher stops: further clients wait in the kernel backlog.
  if (children_ < o_.limit) {
    if (!io_.active()) io_.start(listen_fd_.get(), EV_READ);
  } else {
    io_.stop();
  }
}

void Acceptor::on_readable() {
  while (children_ < o_.limit) {
    SockAddr peer;
    peer.len = sizeof peer.ss;
    int t = ::accept4(listen_fd_.get(), peer.sa(), &peer.len, SOCK_CLOEXEC);
    if (t == -1) {
      if ((errno == EMFILE || errno == ENFILE) && spare_fd_.valid()) {
        // Out of descriptors: free the spare one to accept and close the
        // client, instead of spinning on a listener that stays readable.
        spare_fd_.reset();
        int x = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (x >= 0) ::close(x);
        spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      }
      break;  // EAGAIN, or a client that went away before we accepted
    }
    ++children_;
    status();
    pid_t pid = fork();
    if (pid == 0) {
      listen_fd_.reset();
      serve_connection(o_, t, peer);
    }
    if (pid == -1) {
      if (o_.verbosity >= 1) say(std::string(kDrop) + "unable to fork: " + errno_text(errno) + "\n");
      --children_;
      status();
    }
    ::close(t);
  }
  update_watcher();
}

void Acceptor::child_thunk(struct ev_loop*, ev_child* w, int) {
  static_cast<Acceptor*>(w->data)->on_child(w->rpid, w->rstatus);
}

void Acceptor::on_child(pid_t pid, int wstat) {
  log("tcpserver: end " + std::to_string(pid) + " status " + std::to_string(wstat) + "\n");
  if (children_) --children_;
  status();
  update_watcher();
}

}  // namespace reactor
