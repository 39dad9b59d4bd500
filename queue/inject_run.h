#pragma once
// The process side shared by qmail-inject, predate, mailsubj and qreceipt:
// handing an Injection to qmail-queue (queue/qq.h), and running a program with
// some text put in front of our standard input (predate(1), mailsubj(1)).

#include <string>
#include <string_view>
#include <vector>

#include "queue/inject.h"
#include "reactor/child.h"
#include "reactor/result.h"

namespace queue {

/// Queues the message through qmail-queue (or $QMAILQUEUE); Error says temporary or permanent.
reactor::Status submit(const Injection& inj);

/// Runs argv (PATH searched) with `prefix` followed by the rest of `in_fd` as its
/// standard input; returns how it ended.
reactor::Result<reactor::ExitStatus> run_with_prefix(const std::vector<std::string>& argv, std::string_view prefix,
                                                     int in_fd);

}  // namespace queue
