// Unit tests of qmail-qread's listing and qmail-qstat's counts.
#include "queue/qread.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/fd.h"

using namespace queue;
using namespace std::string_literals;

namespace {
struct QDir {
  std::string path;
  int fd = -1;
  QDir() {
    char tmpl[] = "/tmp/evq-qread-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
    for (const char* d : {"mess", "info", "local", "remote", "bounce", "todo", "intd"})
      REQUIRE(::mkdir((path + "/" + d).c_str(), 0700) == 0);
    for (const char* d : {"mess", "info", "local", "remote"})
      for (int i = 0; i < kConfSplit; ++i)
        REQUIRE(::mkdir((path + "/" + d + "/" + std::to_string(i)).c_str(), 0700) == 0);
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
  }
  ~QDir() {
    ::close(fd);
    std::string cmd = "rm -rf '" + path + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  void put(const std::string& rel, const std::string& data) {
    REQUIRE(reactor::write_file_atomic(path + "/" + rel, data));
  }
  void mtime(const std::string& rel, time_t t) {
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    REQUIRE(::utimensat(fd, rel.c_str(), ts, 0) == 0);
  }
  std::string listing() {
    int out = ::memfd_create("qread", MFD_CLOEXEC);
    REQUIRE(out >= 0);
    CHECK(qread_list(fd, out) == 0);
    REQUIRE(::lseek(out, 0, SEEK_SET) == 0);
    std::string s;
    REQUIRE(reactor::read_all(out, s));
    ::close(out);
    return s;
  }
};
}  // namespace

TEST_CASE("qmail-qread: the stats line, exactly as qmail prints it") {
  CHECK(qread_stats_line(1605956160, 30, 1234, "a@b", false) ==
        "21 Nov 2020 10:56:00 GMT  #30  1234  <a@b> \n");
  CHECK(qread_stats_line(1605956160, 30, 1234, "", true) ==
        "21 Nov 2020 10:56:00 GMT  #30  1234  <>  bouncing\n");
  CHECK(qread_stats_line(0, 7, 0, "x\ty\x80", false) == "1 Jan 1970 00:00:00 GMT  #7  0  <x_y_> \n");
}

TEST_CASE("qmail-qread: recipient lines for T and D records") {
  CHECK(qread_recipients("Ta@b\0Dc@d\0Xz\0Te\nf\0Tpartial"s, true) ==
        "\tremote\ta@b\n  done\tremote\tc@d\n\tremote\te_f\n");
  CHECK(qread_recipients("Tu@h\0"s, false) == "\tlocal\tu@h\n");
}

TEST_CASE("qmail-qread: listing of a hand-made queue") {
  QDir q;
  // message 30 (subdir 7): local and remote recipients, one done, bouncing
  q.put("mess/7/30", std::string(500, 'm'));
  q.put("info/7/30", "Fsender@example.org\0"s);
  q.mtime("info/7/30", 1605956160);
  q.put("local/7/30", "Tjoe@test.example\0Dann@test.example\0"s);
  q.put("remote/7/30", "Tfar@example.net\0"s);
  q.put("bounce/30", "x");
  // message 1 (subdir 1): bounce sender, remote only
  q.put("mess/1/1", "hi");
  q.put("info/1/1", "F\0"s);
  q.mtime("info/1/1", 86400);
  q.put("remote/1/1", "Dgone@example.net\0"s);
  // message 53 (subdir 7): info without mess → warning
  q.put("info/7/53", "Fx\0"s);
  CHECK(q.listing() ==
        "2 Jan 1970 00:00:00 GMT  #1  2  <> \n"
        "  done\tremote\tgone@example.net\n"
        "21 Nov 2020 10:56:00 GMT  #30  500  <sender@example.org>  bouncing\n"
        "\tlocal\tjoe@test.example\n"
        "  done\tlocal\tann@test.example\n"
        "\tremote\tfar@example.net\n"
        "warning: trouble with #53: No such file or directory\n");
}

TEST_CASE("qmail-qstat: counts files below mess/* and todo/") {
  QDir q;
  auto c0 = qstat_counts(q.fd);
  REQUIRE(c0);
  CHECK(qstat_text(*c0) == "messages in queue: 0\nmessages in queue but not yet preprocessed: 0\n");
  q.put("mess/7/30", "a");
  q.put("mess/1/1", "b");
  q.put("mess/1/24", "c");
  q.put("todo/24", "");
  auto c = qstat_counts(q.fd);
  REQUIRE(c);
  CHECK(c->messages == 3);
  CHECK(c->todo == 1);
  CHECK(qstat_text(*c) == "messages in queue: 3\nmessages in queue but not yet preprocessed: 1\n");
}
