// Unit tests of qreceipt's notice (inject_receipt.h).
#include "queue/inject_receipt.h"

#include <doctest/doctest.h>

using namespace queue;

TEST_CASE("inject_receipt: notice only when asked for this address") {
  const char* msg = "Message-ID: <1.2@x>\nNotice-Requested-Upon-Delivery-To: a@b.c, \"d e\"@f.g\n\nbody\n";
  auto r = receipt_notice(msg, "d e@f.g", "sender@x.y");
  REQUIRE(r);
  REQUIRE(*r);
  const Injection& n = **r;
  CHECK(n.sender == "");
  CHECK(n.recipients == std::vector<std::string>{"sender@x.y"});
  CHECK(n.message ==
        "From: DELIVERY NOTICE SYSTEM <sender@x.y>\nTo: <sender@x.y>\nSubject: success notice\n\n"
        "Hi! This is the qreceipt program. Your message was delivered to the\n"
        "following address: d e@f.g. Thanks for asking.\nYour Message-ID: <1.2@x>\n");
  CHECK_FALSE(*receipt_notice(msg, "other@f.g", "sender@x.y"));
  CHECK_FALSE(*receipt_notice(msg, "a@b.c", ""));
  CHECK_FALSE(*receipt_notice(msg, "a@b.c", "#@[]"));
  CHECK_FALSE(*receipt_notice("Subject: x\n\n", "a@b.c", "s@x.y"));
  CHECK_FALSE(receipt_notice("Notice-Requested-Upon-Delivery-To: (x\n\n", "a@b.c", "s@x.y"));
}
