#pragma once
// Startup of qmail-smtpd and qmail-qmtpd: control files (smtpgreeting, me,
// localiphost, badmailfrom, databytes, timeoutsmtpd) and the ucspi
// environment (TCPREMOTEIP..., RELAYCLIENT, DATABYTES), read as qmail does.

#include <functional>
#include <optional>
#include <string>

#include "reactor/result.h"
#include "smtp/smtpd.h"

namespace smtp {

/// Looks up an environment variable (getenv in programs, a map in tests).
using EnvFn = std::function<std::optional<std::string>(const char*)>;
/// The process environment.
EnvFn process_env();

/// Reads the controls from `control_dir` and the peer data from `env`.
/// Error (temporary) when a file is unreadable or neither smtpgreeting nor me exists.
reactor::Result<SmtpdConfig> load_smtpd_config(const std::string& control_dir, const EnvFn& env);

/// The peer fields alone (qmail-qmtpd needs no greeting).
Peer peer_from_env(const EnvFn& env);

/// databytes from control/databytes, overridden by $DATABYTES as qmail does.
reactor::Result<unsigned long> load_databytes(const std::string& control_dir, const EnvFn& env);

}  // namespace smtp
