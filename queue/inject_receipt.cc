// qreceipt's notice (see inject_receipt.h).
#include "queue/inject_receipt.h"

#include "queue/inject_header.h"
#include "queue/rfc822.h"

namespace queue {

reactor::Result<std::optional<Injection>> receipt_notice(std::string_view input, std::string_view target,
                                                         std::string_view return_path) {
  SplitMessage m = split_message(input);
  std::string message_id;
  bool wanted = false;
  for (const std::string& f : m.fields) {
    switch (field_kind(f)) {
      case Field::message_id:
        message_id = f;
        break;
      case Field::notice_requested_upon_delivery_to: {
        std::optional<rfc822::Tokens> out;
        if (auto toks = rfc822::parse(f))
          out = rfc822::rewrite_addrlist(*toks, [&](rfc822::Tokens& a) {
            if (rfc822::unquote(a) == target) wanted = true;
          });
        if (!out) return reactor::perm_error("unable to parse this: " + f);
        break;
      }
      default:
        break;
    }
  }
  // Never answer a bounce or a double bounce.
  if (!wanted || return_path.empty() || return_path == "#@[]") return std::optional<Injection>();
  std::string q = rfc822::quote2(return_path);
  Injection n;
  n.message = "From: DELIVERY NOTICE SYSTEM <" + q + ">\nTo: <" + q +
              ">\nSubject: success notice\n\n"
              "Hi! This is the qreceipt program. Your message was delivered to the\n"
              "following address: " +
              std::string(target) + ". Thanks for asking.\n";
  if (!message_id.empty()) n.message += "Your " + message_id;
  n.sender = "";
  n.recipients = {std::string(return_path)};
  return std::optional<Injection>(std::move(n));
}

}  // namespace queue
