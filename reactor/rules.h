#pragma once
// Connection rules of ucspi-tcp: the text syntax that tcprules(1) compiles,
// its cdb encoding (key = address text; value = "D\0" for deny, then
// "+VAR=value\0" per variable) and the key order of tcpserver's rules.c.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace reactor {

/// One cdb record produced by a rule line (ranges give several).
struct RuleRecord {
  std::string key;
  std::string value;
};

/// Parses rules text as tcprules does. The error text is the offending line.
Result<std::vector<RuleRecord>> parse_rules(std::string_view text);
/// Parses `rules` and writes them to `cdb` through `tmp` (fsync, rename).
/// Parse errors are permanent ("unable to parse this line: ..."), I/O temporary.
Status compile_rules(std::string_view rules, const std::string& cdb, const std::string& tmp);

/// What a rule says: deny or allow, and the variables to set in order.
struct RuleAction {
  bool deny = false;
  std::vector<std::pair<std::string, std::string>> env;
};
/// Decodes a cdb value as tcpserver does (unknown records and unterminated tails ignored).
RuleAction decode_rule(std::string_view value);
/// tcprulescheck's description: "rule KEY:\n", settings, then allow/deny.
std::string describe_rule(std::string_view key, std::string_view value);

/// The keys tcpserver probes, in order: info@ip, info@=host, ip, =host, the
/// ip's prefixes ending in '.' (':' for IPv6), =host suffixes, "=", "".
std::vector<std::string> rule_keys(std::string_view ip, const std::optional<std::string>& host,
                                   const std::optional<std::string>& info);

/// A rule found for a connection.
struct RuleMatch {
  std::string key;
  std::string value;
};
/// Looks a key up in some table (a cdb in production, a map in tests).
using RuleFinder = std::function<std::optional<std::string>(std::string_view key)>;
/// The first rule that exists among rule_keys(), or nullopt (no rule: allow).
std::optional<RuleMatch> match_rules(const RuleFinder& find, std::string_view ip,
                                     const std::optional<std::string>& host,
                                     const std::optional<std::string>& info);
/// match_rules() over a cdb file. A missing file is perm_error("ENOENT").
Result<std::optional<RuleMatch>> match_rules_file(const std::string& cdb, std::string_view ip,
                                                  const std::optional<std::string>& host,
                                                  const std::optional<std::string>& info);

}  // namespace reactor
