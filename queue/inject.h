#pragma once
// qmail-inject(8)'s logic as a pure class: header rewriting, added fields,
// envelope sender and recipients (inject.md 1), given the input bytes, the
// environment, the control files, the time and the process id.

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/inject_header.h"
#include "queue/rfc822.h"
#include "reactor/result.h"

namespace queue {

/// Which recipients are used: -a, -h, -A (default), -H.
enum class RecipMode { args, header, deflt, both };

/// Environment variables, looked up by name.
struct InjectEnv {
  std::map<std::string, std::string, std::less<>> vars;
  /// The value, or nullptr when unset.
  const std::string* get(std::string_view name) const;
};

/// Control files qmail-inject reads (nullopt: file missing), and the QMAILMFTFILE list.
struct InjectControls {
  std::optional<std::string> me, defaulthost, defaultdomain, plusdomain, idhost;
  std::optional<std::vector<std::string>> mft;
};

/// What qmail-inject hands to qmail-queue (or prints with -n).
struct Injection {
  std::string message;
  std::string sender;
  std::vector<std::string> recipients;
};

/// One run of qmail-inject. Errors are permanent (exit 100) with the text of the fatal message.
class Injector {
 public:
  Injector(InjectEnv env, const InjectControls& controls, std::time_t now, long pid);
  /// Fails if a control value does not tokenize.
  reactor::Status init();
  /// -f: the envelope sender, completed like any address.
  reactor::Status set_sender(std::string_view arg);
  /// A command-line recipient (used unless the mode is header-only).
  reactor::Status add_recipient(std::string_view arg);
  /// -a -A -h -H.
  void set_mode(RecipMode m) { mode_ = m; }
  /// The recipient strategy after resolving -A against the argument count.
  RecipMode effective_mode() const;
  /// Processes the message; with `print` (-n) a Return-Path line leads the output.
  reactor::Result<Injection> run(std::string_view input, bool print);

 private:
  reactor::Status do_field(std::string& field, bool& keep);
  reactor::Status rewrite_field(std::string& field, Field kind);
  reactor::Result<std::string> default_from();
  reactor::Status default_return_path();
  void set_return(const rfc822::Tokens& addr);
  std::string added_fields();
  std::string mail_followup_to() const;

  InjectEnv env_;
  InjectControls controls_;
  std::time_t now_;
  long pid_;
  RecipMode mode_ = RecipMode::deflt;
  bool arg_given_ = false;
  // QMAILINJECT flags.
  bool name_comment_ = false, delete_sender_ = false, delete_from_ = false, delete_msgid_ = false;
  bool hack_recip_ = false, hack_mess_ = false;
  // Who the message is from.
  std::string mailuser_, mailruser_;
  std::optional<std::string> mailhost_, mailrhost_, fullname_;
  std::string defaultdomain_, defaulthost_, plusdomain_, idhost_;
  std::optional<rfc822::Completion> complete_;
  // Results.
  std::optional<std::string> sender_;
  std::vector<std::string> args_, header_, header_resent_, tocc_;
  bool seen_[static_cast<size_t>(Field::count)] = {};
};

}  // namespace queue
