// tcpmakectl: the pre-ucspi-tcp name of tcprules(1) that the qmail FAQ 5.4
// uses (`tcpmakectl /etc/tcp.smtp.cdb /etc/tcp.smtp.tmp < /etc/tcp.smtp`).
#include "reactor/rules_main.h"

int main(int argc, char** argv) { return reactor::rules_main("tcpmakectl", argc, argv); }
