#pragma once
// For unit tests: a throw-away QMAILHOME/queue with the directories that
// qmail-queue and qmail-queued write into.

#include <cstdlib>
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/layout.h"
#include "reactor/fd.h"

namespace queue {

struct QueueDir {
  std::string path;
  int fd = -1;
  QueueDir() {
    char tmpl[] = "/tmp/evq-qw-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
    for (const char* d : {"pid", "mess", "intd", "todo", "lock"})
      REQUIRE(::mkdir((path + "/" + d).c_str(), 0700) == 0);
    for (int i = 0; i < kConfSplit; ++i)
      REQUIRE(::mkdir((path + "/mess/" + std::to_string(i)).c_str(), 0700) == 0);
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
  }
  ~QueueDir() {
    ::close(fd);
    std::string cmd = "rm -rf '" + path + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  // Number of entries below a directory (one level of split subdirectories for mess).
  int count(const std::string& dir) const {
    int n = 0;
    DIR* d = ::opendir((path + "/" + dir).c_str());
    REQUIRE(d);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (dir == "mess") n += count("mess/" + name);
      else ++n;
    }
    ::closedir(d);
    return n;
  }
  std::string read(const std::string& rel) const {
    auto r = reactor::read_file(path + "/" + rel);
    REQUIRE(r);
    return *r;
  }
};

}  // namespace queue
