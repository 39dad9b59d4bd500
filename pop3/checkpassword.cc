// checkpassword prog [args...]: checks a system user's name and password
// (passwd and shadow, libcrypt) read from fd 3, then runs prog as that user.
#include "pop3/checkpw.h"
#include "pop3/line_io.h"

int main(int argc, char** argv) {
  if (argc < 2) return pop3::kExitMisuse;
  auto in = pop3::read_check_input(3);
  if (!in) return pop3::kExitMisuse;
  auto who = pop3::check_system_user(in->user, in->pass);
  pop3::wipe(in->pass);
  if (!who) return who.error().temporary ? pop3::kExitTemporary : pop3::kExitRejected;
  return pop3::become_and_exec(*who, argv + 1);
}
