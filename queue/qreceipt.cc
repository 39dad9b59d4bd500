// qreceipt: run from a .qmail file as `|qreceipt address`, answers a
// Notice-Requested-Upon-Delivery-To: naming that address with a success notice.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "queue/inject_receipt.h"
#include "queue/inject_run.h"
#include "reactor/fd.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const char* sender = std::getenv("SENDER");
  if (argc < 2 || !sender) {
    std::cerr << "qreceipt: usage: qreceipt deliveryaddress\n";
    return 100;
  }
  std::string input;
  if (!reactor::read_all(0, input)) {
    std::cerr << "qreceipt: fatal: read error\n";
    return 111;
  }
  auto notice = queue::receipt_notice(input, argv[1], sender);
  if (!notice) {
    std::cerr << "qreceipt: fatal: " << notice.error().text;
    return 100;
  }
  if (!*notice) return 0;
  if (auto st = queue::submit(**notice); !st) {
    std::cerr << "qreceipt: fatal: " << (st.error().temporary ? "temporary" : "permanent")
              << " qmail-queue error\n";
    return st.error().temporary ? 111 : 100;
  }
  return 0;
}
