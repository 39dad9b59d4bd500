#pragma once
// The control files qmail-send reads (queue.md 3), with qmail's defaults
// chained through `me`. evqmail re-reads the whole set on HUP and switches to
// it only when every file was read and the set is valid.

#include <map>
#include <set>
#include <string>

#include "queue/bounce.h"
#include "reactor/result.h"

namespace queue {

/// One complete, validated set of qmail-send's controls.
struct Controls {
  std::string me;
  std::set<std::string> locals;                   ///< lower-cased domains
  std::set<std::string> percenthack;              ///< lower-cased domains
  std::map<std::string, std::string> virtualdomains;  ///< lower-cased key -> value
  std::string envnoathost = "envnoathost";
  unsigned concurrency[2] = {10, 20};             ///< local, remote
  unsigned long queuelifetime = 604800;
  std::string bouncefrom = "MAILER-DAEMON";
  std::string bouncehost = "bouncehost";
  std::string doublebounceto = "postmaster";
  std::string doublebouncehost = "doublebouncehost";
  BounceFormat bounceformat = BounceFormat::qsbmf;  ///< control/bounceformat (evqmail)
  unsigned long bouncemaxbytes = 0;               ///< control/bouncemaxbytes; 0 = no cap

  /// True if `domain` is listed in locals (case-insensitive).
  bool is_local(const std::string& domain) const;
  /// The virtualdomains value for `key` (case-insensitive), or nullptr.
  const std::string* vdom(const std::string& key) const;
};

/// Reads every control of section 3 from directory `dir` (e.g. "/var/qmail/control").
/// Error when a file is unreadable or malformed, or when neither locals nor me exists.
reactor::Result<Controls> load_controls(const std::string& dir);

}  // namespace queue
