// Unit tests of qmail-queue's envelope codec and injection sequence.
#include "queue/queue_writer.h"

#include <cstdlib>
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/queue_dir_test_util.h"
#include "reactor/fd.h"

using namespace queue;
using namespace std::string_literals;

namespace {

// A readable descriptor holding `data` (memfd, rewound).
reactor::UniqueFd fd_with(const std::string& data) {
  int fd = ::memfd_create("evq-test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(reactor::write_all(fd, data));
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  return reactor::UniqueFd(fd);
}

QueueJob job() {
  QueueJob j;
  j.uid = 1234;
  j.pid = 4321;
  j.now = 1605956160;
  j.how = "by uid 1234";
  return j;
}

int parse(const std::string& env, std::string& out, const std::string& extra = "") {
  EnvelopeParser p(extra);
  p.feed(env, out);
  return p.exit_code_at_eof();
}

}  // namespace

TEST_CASE("qmail-queue envelope: valid forms and the copied bytes") {
  std::string out;
  CHECK(parse("Fa@b\0Tc@d\0Te@f\0\0"s, out) == 0);
  CHECK(out == "Fa@b\0Tc@d\0Te@f\0"s);  // final NUL not copied
  out.clear();
  CHECK(parse("F\0\0"s, out) == 0);     // bounce with no recipients
  CHECK(out == "F\0"s);
  out.clear();
  CHECK(parse("F#@[]\0Tpm@x\0\0trailing junk"s, out) == 0);
  CHECK(out == "F#@[]\0Tpm@x\0"s);
}

TEST_CASE("qmail-queue envelope: QUEUE_EXTRA goes right after the F record") {
  std::string out;
  CHECK(parse("Fs@x\0Tr@y\0\0"s, out, "Tlog\0"s) == 0);
  CHECK(out == "Fs@x\0Tlog\0Tr@y\0"s);
}

TEST_CASE("qmail-queue envelope: exit codes 54, 91, 11") {
  std::string out;
  CHECK(parse("", out) == qq_exit::kRead);
  CHECK(parse("Fa@b\0Tc@d\0"s, out) == qq_exit::kRead);  // no final NUL
  CHECK(parse("Fa@b", out) == qq_exit::kRead);
  CHECK(parse("Ta@b\0\0"s, out) == qq_exit::kFormat);
  CHECK(parse("Fa@b\0Xc\0\0"s, out) == qq_exit::kFormat);
  // qmail's ADDR is 1003: up to 1002 address bytes pass, 1003 do not.
  CHECK(parse("F" + std::string(1002, 'a') + "\0\0"s, out) == 0);
  CHECK(parse("F" + std::string(1003, 'a') + "\0\0"s, out) == qq_exit::kAddrTooLong);
  CHECK(parse("Fx\0T"s + std::string(1003, 'a'), out) == qq_exit::kAddrTooLong);
  CHECK(parse("Fx\0T"s + std::string(1002, 'a') + "\0\0"s, out) == 0);
}

TEST_CASE("qmail-queue envelope: CR or LF in an address is a format error") {
  std::string out;
  CHECK(parse("Fa\rb@c\0Td@e\0\0"s, out) == qq_exit::kFormat);
  CHECK(parse("Fa@b\0Ta\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<v@x>\0\0"s, out) == qq_exit::kFormat);
  CHECK(parse("Fa@b\0Tc@d\n\0\0"s, out) == qq_exit::kFormat);
  // Other bytes still pass as in qmail (a tab, 8-bit).
  CHECK(parse("Fa\tb@c\0T\xe9@d\0\0"s, out) == 0);
}

TEST_CASE("qmail-queue envelope: byte-at-a-time feeding gives the same result") {
  std::string env = "Fs@x\0Ta@b\0Tc@d\0\0"s;
  EnvelopeParser p("Tq\0"s);
  std::string out;
  for (char c : env) {
    size_t used = 0;
    p.feed(std::string_view(&c, 1), out, &used);
    CHECK(used == 1);
  }
  CHECK(p.status() == EnvelopeParser::Status::done);
  CHECK(out == "Fs@x\0Tq\0Ta@b\0Tc@d\0"s);
  size_t used = 7;
  p.feed("more", out, &used);
  CHECK(used == 0);
}

TEST_CASE("qmail-queue Received line and how") {
  CHECK(received_line(4321, "by uid 1234", 1605956160) ==
        "Received: (qmail 4321 invoked by uid 1234); 21 Nov 2020 10:56:00 -0000\n");
  CHECK(received_how(7, 7, 8, 9) == "by alias");
  CHECK(received_how(8, 7, 8, 9) == "from network");
  CHECK(received_how(9, 7, 8, 9) == "for bounce");
  CHECK(received_how(10, 7, 8, 9) == "by uid 10");
  CHECK(received_how(10, std::nullopt, std::nullopt, std::nullopt) == "by uid 10");
}

TEST_CASE("queueextra control file") {
  CHECK(queue_extra_records({"log", "a@b"}) == "Tlog\0Ta@b\0"s);
  char tmpl[] = "/tmp/evq-qx-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  std::string dir = tmpl;
  auto none = read_queue_extra(dir + "/missing");
  REQUIRE(none);
  CHECK(*none == "");
  REQUIRE(reactor::write_file_atomic(dir + "/qx", "# copy of all mail\nlog\n\narchive@example.org  \n"));
  auto two = read_queue_extra(dir + "/qx");
  REQUIRE(two);
  CHECK(*two == "Tlog\0Tarchive@example.org\0"s);
  REQUIRE(reactor::write_file_atomic(dir + "/long", std::string(1003, 'a') + "\n"));
  CHECK_FALSE(read_queue_extra(dir + "/long"));
  REQUIRE(::mkdir((dir + "/adir").c_str(), 0700) == 0);
  CHECK_FALSE(read_queue_extra(dir + "/adir"));  // unreadable as a file
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("qmail-queue injection writes mess, intd and the todo link") {
  QueueDir q;
  auto msg = fd_with("Subject: hi\n\nbody\n");
  auto env = fd_with("Fs@x\0Ta@b\0Tc@d\0\0"s);
  QueueJob j = job();
  j.extra = "Tlog\0"s;
  QueueResult r = inject_message(q.fd, msg.get(), env.get(), j);
  REQUIRE(r.code == 0);
  std::string n = std::to_string(r.id);
  std::string mess = "mess/" + std::to_string(r.id % kConfSplit) + "/" + n;
  struct stat st;
  REQUIRE(::stat((q.path + "/" + mess).c_str(), &st) == 0);
  CHECK(static_cast<MsgId>(st.st_ino) == r.id);  // named by its inode
  CHECK(q.read(mess) ==
        "Received: (qmail 4321 invoked by uid 1234); 21 Nov 2020 10:56:00 -0000\n"
        "Subject: hi\n\nbody\n");
  CHECK(q.read("intd/" + n) == "u1234\0p4321\0Fs@x\0Tlog\0Ta@b\0Tc@d\0"s);
  struct stat a, b;
  REQUIRE(::stat((q.path + "/intd/" + n).c_str(), &a) == 0);
  REQUIRE(::stat((q.path + "/todo/" + n).c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);  // todo/N is a hard link of intd/N
  CHECK(q.count("pid") == 0);
}

TEST_CASE("qmail-queue injection removes its files on every failure") {
  QueueDir q;
  struct Case {
    std::string env;
    int code;
  };
  for (const Case& c : {Case{"Fs@x\0Ta@b\0"s, qq_exit::kRead}, Case{"Xs\0\0"s, qq_exit::kFormat},
                        Case{"Fs\0T"s + std::string(2000, 'a'), qq_exit::kAddrTooLong},
                        Case{"", qq_exit::kRead}}) {
    auto msg = fd_with("x\n");
    auto env = fd_with(c.env);
    CHECK(inject_message(q.fd, msg.get(), env.get(), job()).code == c.code);
  }
  // An unreadable message (a directory) is a read error.
  int dirfd = ::open("/", O_RDONLY | O_DIRECTORY);
  auto env = fd_with("Fs\0\0"s);
  CHECK(inject_message(q.fd, dirfd, env.get(), job()).code == qq_exit::kRead);
  ::close(dirfd);
  for (const char* d : {"pid", "mess", "intd", "todo"}) CHECK(q.count(d) == 0);
}

TEST_CASE("qmail-queue injection: queue trouble gives 63..66") {
  QueueDir q;
  auto env = fd_with("Fs\0\0"s);
  REQUIRE(::rmdir((q.path + "/todo").c_str()) == 0);
  auto msg = fd_with("x\n");
  CHECK(inject_message(q.fd, msg.get(), env.get(), job()).code == qq_exit::kTodo);
  CHECK(q.count("mess") == 0);
  CHECK(q.count("intd") == 0);
  REQUIRE(::rmdir((q.path + "/intd").c_str()) == 0);
  CHECK(inject_message(q.fd, msg.get(), env.get(), job()).code == qq_exit::kIntd);
  for (int i = 0; i < kConfSplit; ++i)
    REQUIRE(::rmdir((q.path + "/mess/" + std::to_string(i)).c_str()) == 0);
  CHECK(inject_message(q.fd, msg.get(), env.get(), job()).code == qq_exit::kMess);
  CHECK(q.count("pid") == 0);
  REQUIRE(::rmdir((q.path + "/pid").c_str()) == 0);
  CHECK(inject_message(q.fd, msg.get(), env.get(), job()).code == qq_exit::kPid);
  // put the directories back so the destructor's rm -rf has a tidy tree
  for (const char* d : {"pid", "intd", "todo"}) ::mkdir((q.path + "/" + d).c_str(), 0700);
}
