// qmail-newmrh: control/morercpthosts -> control/morercpthosts.cdb, atomically.
#include <cstdio>

#include "queue/home.h"
#include "reactor/cdb.h"
#include "reactor/control.h"

namespace {
int fatal(const char* what, const std::string& why) {
  std::fprintf(stderr, "qmail-newmrh: fatal: %s: %s\n", what, why.c_str());
  return 111;
}
}  // namespace

int main() {
  if (auto st = queue::chdir_home(); !st) return fatal("unable to chdir to home", st.error().text);
  auto list = reactor::control_list("control/morercpthosts");
  if (!list) return fatal("unable to read control/morercpthosts", list.error().text);
  reactor::CdbWriter w;
  // qmail writes morercpthosts.tmp and renames it over morercpthosts.cdb.
  if (auto st = w.create("control/morercpthosts.cdb", 0644, "control/morercpthosts.tmp"); !st)
    return fatal("unable to create control/morercpthosts.tmp", st.error().text);
  if (*list)
    for (const auto& host : **list)
      if (auto st = w.add(reactor::lowercase(host), ""); !st)
        return fatal("unable to write control/morercpthosts.tmp", st.error().text);
  if (auto st = w.commit(); !st)
    return fatal("unable to move control/morercpthosts.tmp to control/morercpthosts.cdb", st.error().text);
  return 0;
}
