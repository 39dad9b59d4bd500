#pragma once
// qreceipt(1): the success notice sent back when a delivered message asks for
// one with `Notice-Requested-Upon-Delivery-To:` naming the delivery address.

#include <optional>
#include <string>
#include <string_view>

#include "queue/inject.h"
#include "reactor/result.h"

namespace queue {

/// The notice to queue for `input` delivered to `target` (sent by `return_path`),
/// nullopt when none is asked for (or the sender is `<>` / `#@[]`);
/// a permanent Error if the request field does not parse.
reactor::Result<std::optional<Injection>> receipt_notice(std::string_view input, std::string_view target,
                                                         std::string_view return_path);

}  // namespace queue
