#pragma once
// The tcpserver acceptor of ucspi-tcp on a libev loop: its command line, the
// listening socket, the concurrency limit (-c), the -v status lines, and the
// per-connection child that sets tcp-environ(5), applies rules and execs.

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <ev.h>

#include "reactor/fd.h"
#include "reactor/inet.h"
#include "reactor/loop.h"
#include "reactor/result.h"

namespace reactor {

/// tcpserver's options; defaults as in ucspi-tcp 0.88.
struct ServerOptions {
  int verbosity = 1;                    ///< -q 0, -Q 1, -v 2
  unsigned long limit = 40;             ///< -c
  std::string rules;                    ///< -x (empty: none)
  bool allow_norules = false;           ///< -X
  std::string banner;                   ///< -B
  unsigned long uid = 0, gid = 0;       ///< -u, -g, -U (0: keep)
  unsigned long backlog = 20;           ///< -b
  bool backlog_given = false;           ///< -b was on the command line
  std::optional<std::string> localname; ///< -l
  bool remote_host = true;              ///< -h / -H
  bool paranoid = false;                ///< -p / -P
  bool remote_info = true;              ///< -r / -R: RFC 1413 query for TCPREMOTEINFO
  unsigned long timeout = 26;           ///< -t: seconds for the ident query
  uint16_t ident_port = 113;            ///< $IDENTPORT (a test aid), else 113
  bool nodelay = false;                 ///< -D / -d
  bool keep_ip_options = false;         ///< -o / -O
  bool print_port = false;              ///< -1
  int family = 0;                       ///< -4 / -6 (0: as the host says)
  std::string host, port;
  std::vector<std::string> argv;        ///< the program and its arguments
};

/// The usage line printed on a bad command line.
extern const char* const kServerUsage;
/// Parses tcpserver's command line (options stop at the host argument).
/// `env_uid`/`env_gid` are $UID/$GID for -U. Errors carry the usage text.
Result<ServerOptions> parse_server_options(const std::vector<std::string>& args,
                                           const char* env_uid, const char* env_gid);

/// The -v line for a connection: "tcpserver: ok|deny PID lhost:lip:lport rhost:rip:rinfo:rport\n".
std::string connection_line(bool deny, pid_t pid, const TcpInfo& t);
/// The per-connection environment: `base`, then tcp-environ(5), then the rule's variables.
std::vector<std::string> connection_env(const std::vector<std::string>& base, const TcpInfo& t,
                                        const std::vector<std::pair<std::string, std::string>>& rule_env);

/// Runs in the forked child for one accepted connection: logs, looks up
/// names, applies rules, puts the socket on fd 0 and 1 and execs the program.
/// Never returns (exit 100 on deny, 111 on failure).
[[noreturn]] void serve_connection(const ServerOptions& o, int fd, const SockAddr& peer);

/// Listens, accepts while fewer than `limit` children run, forks one child
/// per connection and logs status lines, all on one libev loop.
class Acceptor {
 public:
  Acceptor(Loop& loop, ServerOptions opts);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  /// Resolves the host, binds (SO_REUSEADDR), listens. Errors say which step failed.
  Status listen();
  /// The bound port (after listen()).
  uint16_t port() const { return port_; }
  /// Prints the first status line and starts accepting.
  void start();
  /// Children running now.
  unsigned long children() const { return children_; }

 private:
  static void child_thunk(struct ev_loop*, ev_child* w, int);
  void on_readable();
  void on_child(pid_t pid, int wstat);
  void update_watcher();
  void status();
  void log(const std::string& line);

  Loop& loop_;
  ServerOptions o_;
  UniqueFd listen_fd_;
  UniqueFd spare_fd_;  // given up on EMFILE to accept and drop one connection
  Io io_;
  ev_child child_w_{};
  uint16_t port_ = 0;
  unsigned long children_ = 0;
};

}  // namespace reactor
