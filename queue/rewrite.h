#pragma once
// Recipient rewriting and channel choice of qmail-send (queue.md 4.2):
// envnoathost, percenthack, locals, virtualdomains; and the removal of a
// virtualdomains prefix from a recipient shown in a bounce (4.7).

#include <string>

#include "queue/controls.h"

namespace queue {

/// The two delivery channels.
enum Channel { kLocal = 0, kRemote = 1 };

/// A rewritten recipient and the channel it goes to.
struct Routed {
  std::string address;
  Channel channel = kRemote;
};

/// Applies the steps of 4.2 to one T address.
Routed rewrite_recipient(const Controls& c, const std::string& recipient);

/// Strips "prefix-" that virtualdomains added, for the bounce text (4.7).
std::string strip_vdom_prefix(const Controls& c, const std::string& recipient);

}  // namespace queue
