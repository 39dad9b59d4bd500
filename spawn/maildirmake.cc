// maildirmake dir: creates a Maildir (dir, dir/tmp, dir/new, dir/cur), mode
// 0700 filtered by the caller's umask, as qmail's maildirmake(1). Fails if dir
// exists.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "maildirmake: fatal: unable to %s: %s\n", what.c_str(), std::strerror(errno));
  return 111;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !argv[1][0]) {
    std::fprintf(stderr, "maildirmake: usage: maildirmake name\n");
    return 100;
  }
  std::string dir = argv[1];
  if (::mkdir(dir.c_str(), 0700) != 0) return fail("mkdir " + dir);
  if (::chdir(dir.c_str()) != 0) return fail("chdir to " + dir);
  for (const char* sub : {"tmp", "new", "cur"})
    if (::mkdir(sub, 0700) != 0) return fail(std::string("mkdir ") + dir + "/" + sub);
  return 0;
}
