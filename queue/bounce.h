#pragma once
// qmail-send's bounces (queue.md 4.5, 4.7): bounce/N entries, the QSBMF
// single and double bounce texts, and VERP expansion of the envelope sender.

#include <string>
#include <string_view>

namespace queue {

/// Envelope sender rewritten for one recipient: "p@h-@[]" + "box@rh" -> "pbox=rh@h".
std::string verp_sender(std::string_view sender, std::string_view recipient);

/// One bounce/N entry: "<recip>:\n" report, inner blank lines as "/", then a blank line.
std::string bounce_entry(std::string_view recipient, std::string_view report);

/// What completion does with bounce/N, from the original sender.
enum class BounceKind { single, dbl, triple };
/// Classifies the original sender: "" double, "#@[]" triple, anything else single.
BounceKind bounce_kind(std::string_view sender);
/// The sender a bounce goes to: a VERP template "x-@host-@[]" becomes "x-@host".
std::string bounce_target(std::string_view sender);

/// qmail's quote2(): the address with its local part quoted if needed.
std::string quote_address(std::string_view addr);

/// Everything of a QSBMF bounce before the copied message: headers, text,
/// the bounce/N contents, separator and Return-Path line. `sender` is the
/// original sender after bounce_target(); `to` the bounce recipient.
std::string bounce_head(std::string_view date, std::string_view bouncefrom,
                        std::string_view bouncehost, std::string_view to, std::string_view sender,
                        std::string_view entries);

}  // namespace queue
