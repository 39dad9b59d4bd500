// qmail-inject: fixes up a message's header and queues it (inject.md 1).
#include <csignal>
#include <ctime>
#include <iostream>
#include <unistd.h>

#include "queue/home.h"
#include "queue/inject.h"
#include "queue/inject_args.h"
#include "queue/inject_run.h"
#include "reactor/control.h"
#include "reactor/fd.h"

extern char** environ;

namespace {

[[noreturn]] void die(int code, const std::string& text) {
  std::cerr << "qmail-inject: fatal: " << text << (text.ends_with('\n') ? "" : "\n");
  std::exit(code);
}

// Reads control/NAME into `out`; a missing file leaves it unset.
void read_control(const char* name, std::optional<std::string>& out) {
  auto r = reactor::control_line(std::string("control/") + name);
  if (!r) die(111, "unable to read controls: " + r.error().text);
  out = *r;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::time_t now = std::time(nullptr);
  auto args = queue::parse_inject_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!args) {
    std::cerr << "qmail-inject: " << args.error().text << "\n";
    return 100;
  }
  queue::InjectEnv env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env.vars.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  queue::InjectControls controls;
  // QMAILMFTFILE is relative to the caller's directory: read it before chdir.
  if (const std::string* mft = env.get("QMAILMFTFILE")) {
    auto r = reactor::control_list(*mft);
    if (!r) die(111, "read error: " + r.error().text);
    controls.mft = *r;
  }
  if (auto st = queue::chdir_home(); !st) die(111, st.error().text);
  read_control("me", controls.me);
  read_control("defaultdomain", controls.defaultdomain);
  read_control("defaulthost", controls.defaulthost);
  read_control("plusdomain", controls.plusdomain);
  read_control("idhost", controls.idhost);

  queue::Injector inj(std::move(env), controls, now, static_cast<long>(::getpid()));
  if (auto st = inj.init(); !st) die(100, st.error().text);
  inj.set_mode(args->mode);
  if (args->sender)
    if (auto st = inj.set_sender(*args->sender); !st) die(100, st.error().text);
  for (const std::string& r : args->recipients)
    if (auto st = inj.add_recipient(r); !st) die(100, st.error().text);

  std::string input;
  if (!reactor::read_all(0, input)) die(111, "read error");
  auto out = inj.run(input, !args->queue);
  if (!out) die(out.error().temporary ? 111 : 100, out.error().text);
  if (!args->queue) {
    if (!reactor::write_all(1, out->message)) die(111, "unable to write output");
    return 0;
  }
  if (auto st = queue::submit(*out); !st) die(st.error().temporary ? 111 : 100, st.error().text);
  return 0;
}
