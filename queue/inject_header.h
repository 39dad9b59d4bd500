#pragma once
// Splitting a message into header fields and body as qmail's headerbody.c does,
// and recognising header field names as hfield.c does (case-insensitively).

#include <string>
#include <string_view>
#include <vector>

namespace queue {

/// Header fields qmail-inject and qreceipt care about (hfield.h's H_* numbers).
enum class Field {
  unknown, sender, from, reply_to, to, cc, bcc, date, message_id, subject,
  resent_sender, resent_from, resent_reply_to, resent_to, resent_cc, resent_bcc,
  resent_date, resent_message_id, return_receipt_to, errors_to, apparently_to,
  received, return_path, delivered_to, content_length, content_type,
  content_transfer_encoding, notice_requested_upon_delivery_to, mail_followup_to,
  count
};

/// Classifies a field ("TO : x" is Field::to); Field::unknown otherwise.
Field field_kind(std::string_view field);
/// True if the text before the first colon is a nonempty run of printable non-space characters.
bool field_valid(std::string_view field);

/// A message split into header fields (each with its continuation lines and final
/// "\n") and the body (starting with the separating blank line, if any).
struct SplitMessage {
  std::vector<std::string> fields;
  std::string body;
};

/// headerbody: a first non-header line ends the header and becomes the body after
/// an inserted blank line; a `From ` line becomes an `MBOX-Line:` field; a last
/// line without newline gets one.
SplitMessage split_message(std::string_view input);

}  // namespace queue
