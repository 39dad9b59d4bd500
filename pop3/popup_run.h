#pragma once
// The qmail-popup(8) program around the pure Popup machine: greeting, the
// authorization dialogue on fd 0/1, and the checkpassword call (name,
// password and timestamp on fd 3), with failed logins logged and slowed.

#include <string>

namespace pop3 {

/// Seconds to wait before "-ERR authorization failed": $POPUP_FAILDELAY or 2.
double fail_delay();
/// Seconds the authorization state may last in all (before PASS or APOP).
constexpr int kPreauthLifetime = 300;
/// $POPUP_LIFETIME (1..86400) or kPreauthLifetime.
int preauth_lifetime();

/// Runs qmail-popup: `hostname`, then the checkpassword program and its args
/// (NULL-terminated). Returns the exit code (qmail-popup always exits 1).
int run_popup(const char* hostname, char** childargs, int timeout);

/// Runs `childargs` with `input` readable on fd 3, fd 0/1/2 inherited; returns
/// the wait status, or -1 if the pipe or fork failed.
int run_checkpassword(char** childargs, const std::string& input);

}  // namespace pop3
