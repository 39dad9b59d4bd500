// qmail-showctl: prints the build settings and every control file's effect.
#include <unistd.h>

#include "queue/home.h"
#include "queue/showctl.h"
#include "reactor/fd.h"

int main() {
  std::string out = queue::show_build(queue::current_build_info());
  if (!queue::chdir_home()) {
    out += "Oops! Unable to chdir to " + queue::qmail_home() + ".\n";
    reactor::write_all(1, out);
    return 111;
  }
  if (chdir("control") == -1) {
    out += "Oops! Unable to chdir to control.\n";
    reactor::write_all(1, out);
    return 111;
  }
  out += queue::show_controls(".").text;
  return reactor::write_all(1, out) ? 0 : 111;
}
