#pragma once
// The body of tcprules(1), shared by its historical name tcpmakectl (the
// pre-ucspi-tcp name used by the qmail FAQ 5.4): same arguments, same output.

namespace reactor {

/// Runs `progname rules.cdb rules.tmp < rules.txt`; returns the exit code
/// (0, 100 for usage and bad rules, 111 for I/O trouble). Messages start with `progname`.
int rules_main(const char* progname, int argc, char** argv);

}  // namespace reactor
