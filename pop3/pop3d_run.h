#pragma once
// The qmail-pop3d(8) program around the pure Pop3d machine: chdir to the
// Maildir, clean tmp/, scan, then serve commands on fd 0/1 with timeouts,
// streaming RETR/TOP from the message file.

#include "pop3/pop3d.h"

namespace pop3 {

/// qmail's 1200 s, or $POP3D_TIMEOUT seconds when set (tests).
int io_timeout();

/// Runs a whole qmail-pop3d session on fd 0/1 for `maildir`; returns the exit code.
int run_pop3d(const char* maildir, Pop3dOptions opt, int timeout);

}  // namespace pop3
