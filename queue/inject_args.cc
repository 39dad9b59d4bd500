// qmail-inject and sendmail command lines (see inject_args.h).
#include "queue/inject_args.h"

#include <cstring>

namespace queue {

namespace {

// A small sgetopt: one option letter at a time from clustered words.
class Getopt {
 public:
  Getopt(const std::vector<std::string>& args, const char* spec) : args_(args), spec_(spec) {}

  /// Next option letter; 0 at the end of the options, '?' for an unknown letter
  /// or a missing argument.
  char next() {
    if (pos_ == 0) {
      if (ind_ >= args_.size()) return 0;
      const std::string& w = args_[ind_];
      if (w.size() < 2 || w[0] != '-') return 0;
      if (w == "--") {
        ++ind_;
        return 0;
      }
      pos_ = 1;
    }
    const std::string& w = args_[ind_];
    char c = w[pos_++];
    const char* p = std::strchr(spec_, c);
    bool takes_arg = p && p[1] == ':';
    arg_.clear();
    if (takes_arg) {
      if (pos_ < w.size()) {
        arg_ = w.substr(pos_);
      } else if (ind_ + 1 < args_.size()) {
        arg_ = args_[++ind_];
      } else {
        advance();
        return '?';
      }
      advance();
    } else if (pos_ >= w.size()) {
      advance();
    }
    return p && c != ':' ? c : '?';
  }
  /// The argument of the last option.
  const std::string& arg() const { return arg_; }
  /// Skips the rest of the current word (sendmail's -E and -J).
  void skip_word() {
    if (pos_ != 0) advance();
  }
  /// Index of the first non-option word.
  size_t index() const { return ind_; }

 private:
  void advance() {
    ++ind_;
    pos_ = 0;
  }
  const std::vector<std::string>& args_;
  const char* spec_;
  size_t ind_ = 0, pos_ = 0;
  std::string arg_;
};

}  // namespace

reactor::Result<InjectArgs> parse_inject_args(const std::vector<std::string>& args) {
  InjectArgs out;
  Getopt g(args, "aAhHnNf:");
  while (char c = g.next()) {
    switch (c) {
      case 'a': out.mode = RecipMode::args; break;
      case 'A': out.mode = RecipMode::deflt; break;
      case 'h': out.mode = RecipMode::header; break;
      case 'H': out.mode = RecipMode::both; break;
      case 'n': out.queue = false; break;
      case 'N': out.queue = true; break;
      case 'f': out.sender = g.arg(); break;
      default:
        return reactor::perm_error("usage: qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ]");
    }
  }
  out.recipients.assign(args.begin() + static_cast<long>(g.index()), args.end());
  return out;
}

SendmailPlan plan_sendmail(const std::string& progname, const std::vector<std::string>& args, bool proto_set) {
  SendmailPlan plan;
  auto act = [&](SendmailPlan::Action a) {
    plan.action = a;
    plan.argv.clear();
    if (a == SendmailPlan::Action::mailq) plan.argv = {"bin/qmail-qread"};
    if (a == SendmailPlan::Action::smtpd) {
      plan.argv = {"bin/qmail-smtpd"};
      // sendmail -bs looks like a local SMTP connection that may relay.
      if (!proto_set)
        plan.setenv.insert(plan.setenv.end(), {{"RELAYCLIENT", ""},
                                               {"DATABYTES", "0"},
                                               {"PROTO", "TCP"},
                                               {"TCPLOCALIP", "127.0.0.1"},
                                               {"TCPLOCALHOST", "localhost"},
                                               {"TCPREMOTEIP", "127.0.0.1"},
                                               {"TCPREMOTEHOST", "localhost"},
                                               {"TCPREMOTEINFO", "sendmail-bs"}});
    }
    return plan;
  };
  bool header = false;
  std::optional<std::string> sender;
  Getopt g(args, "vimte:f:p:o:B:F:EJxb:");
  while (char c = g.next()) {
    switch (c) {
      case 't': header = true; break;
      case 'f': sender = g.arg(); break;
      case 'F': plan.setenv.emplace_back("MAILNAME", g.arg()); break;
      // qmail has one delivery mode, one error mode, and never stops at a "." line.
      case 'B': case 'p': case 'v': case 'i': case 'x': case 'm': case 'e': case 'o': break;
      case 'E': case 'J': g.skip_word(); break;  // optional argument glued to the letter
      case 'b':
        switch (g.arg().empty() ? '\0' : g.arg()[0]) {
          case 'm': break;
          case 'p': return act(SendmailPlan::Action::mailq);
          case 's': return act(SendmailPlan::Action::smtpd);
          default: return act(SendmailPlan::Action::usage);
        }
        break;
      default:
        return act(SendmailPlan::Action::usage);
    }
  }
  if (progname == "mailq") return act(SendmailPlan::Action::mailq);
  if (progname == "newaliases") return act(SendmailPlan::Action::newaliases);
  plan.argv = {"bin/qmail-inject", header ? "-H" : "-a"};
  if (sender) {
    plan.argv.push_back("-f");
    plan.argv.push_back(*sender);
  }
  plan.argv.push_back("--");
  plan.argv.insert(plan.argv.end(), args.begin() + static_cast<long>(g.index()), args.end());
  return plan;
}

}  // namespace queue
