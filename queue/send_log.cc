// qmail-send log lines (see send_log.h).
#include "queue/send_log.h"

namespace queue {

std::string log_safe(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '\n') ch = '/';
    else if (ch == '%' || u < 33 || u > 126) ch = '_';  // '%': qmail distrusts it in logs
  }
  return out;
}

void SendLog::line(std::string_view l) const {
  std::string s(l);
  s += '\n';
  sink_(s);
}

void SendLog::status(unsigned lu, unsigned lc, unsigned ru, unsigned rc, bool exitasap) const {
  std::string s = "status: local " + std::to_string(lu) + "/" + std::to_string(lc) + " remote " +
                  std::to_string(ru) + "/" + std::to_string(rc);
  if (exitasap) s += " exitasap";
  line(s);
}

void SendLog::starting(unsigned long d, unsigned long long id, int channel,
                       std::string_view recip) const {
  line("starting delivery " + std::to_string(d) + ": msg " + std::to_string(id) +
       (channel == 0 ? " to local " : " to remote ") + log_safe(recip));
}

void SendLog::report(unsigned long d, char status, std::string_view text) const {
  std::string head = "delivery " + std::to_string(d) + ": ";
  switch (status) {
    case 'K': line(head + "success: " + log_safe(text)); break;
    case 'Z': line(head + "deferral: " + log_safe(text)); break;
    case 'D': line(head + "failure: " + log_safe(text)); break;
    default: line(head + "report mangled, will defer"); break;
  }
}

void SendLog::info(unsigned long long id, unsigned long long bytes, std::string_view sender,
                   unsigned long qp, unsigned long uid) const {
  line("info msg " + std::to_string(id) + ": bytes " + std::to_string(bytes) + " from <" +
       log_safe(sender) + "> qp " + std::to_string(qp) + " uid " + std::to_string(uid));
}

}  // namespace queue
