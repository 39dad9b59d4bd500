/* A fast SMTP sink for the benchmarks (remote_rate.py --sink c, compare.py):
   one process, epoll, PIPELINING offered, every message accepted and
   discarded. Compiled by benchlib.CSink. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
/* argv[1] = ip. Prints "port N", then one line per accepted message. */
struct conn { int fd, data; size_t n; char line[1024]; };
int main(int argc, char** argv) {
  (void)argc;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  if (bind(l, (struct sockaddr*)&sa, sizeof sa) || listen(l, 1024)) return 1;
  socklen_t len = sizeof sa;
  getsockname(l, (struct sockaddr*)&sa, &len);
  printf("port %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  struct epoll_event evs[256];
  unsigned long count = 0;
  static char buf[65536], out[8192];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; ++i) {
      struct conn* c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
          (void)!write(fd, "220 sink ESMTP\r\n", 16);
        }
        continue;
      }
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r < 0 && errno == EAGAIN) continue;
      int closeit = r <= 0, counted = 0;
      size_t o = 0;
#define SAY(s) (memcpy(out + o, s, sizeof s - 1), o += sizeof s - 1)
      for (ssize_t k = 0; k < r && !closeit; ++k) {
        if (c->n < sizeof c->line - 1) c->line[c->n++] = buf[k];
        if (buf[k] != '\n') continue;
        c->line[c->n] = 0;
        c->n = 0;
        if (c->data) {
          if (!strcmp(c->line, ".\r\n")) { c->data = 0; ++count; counted = 1; SAY("250 ok\r\n"); }
        } else if (!strncasecmp(c->line, "EHLO", 4)) SAY("250-sink\r\n250 PIPELINING\r\n");
        else if (!strncasecmp(c->line, "DATA", 4)) { c->data = 1; SAY("354 go\r\n"); }
        else if (!strncasecmp(c->line, "QUIT", 4)) { SAY("221 bye\r\n"); closeit = 1; }
        else SAY("250 ok\r\n");
        if (o > sizeof out - 64) { (void)!write(c->fd, out, o); o = 0; }
      }
      if (o) (void)!write(c->fd, out, o);
      if (counted) { printf("%lu\n", count); fflush(stdout); }
      if (closeit) { close(c->fd); free(c); }
    }
  }
}
