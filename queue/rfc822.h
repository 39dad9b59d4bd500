#pragma once
// RFC 822 header-field tokens and address-list rewriting as qmail's token822.c
// and quote.c do them, plus qmail-inject's address completion (defaulthost,
// defaultdomain, plusdomain: inject.md 1.3). Pure functions, no I/O.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace queue::rfc822 {

/// Token kinds of token822.h.
enum class Tok { atom, quote, literal, comment, comma, at, dot, left, right, semi, colon };

/// One token; `s` holds the unescaped text of atoms, quoted strings, literals and comments.
struct Token {
  Tok type;
  std::string s;
  bool operator==(const Token&) const = default;
};
using Tokens = std::vector<Token>;

/// Tokenizes text (a whole header field); nullopt on an unbalanced (, ", [ or a stray ) or ].
std::optional<Tokens> parse(std::string_view text);
/// Writes tokens back as text, folding after commas at `linelen` (0: never), ending in "\n".
std::string unparse(const Tokens& tokens, size_t linelen = 80);
/// The address text of tokens (comments dropped, quoting removed), as token822_unquote.
std::string unquote(const Tokens& tokens);

/// Called with each address of a list (tokens in reading order); may rewrite it in place.
using AddrCallback = std::function<void(Tokens& addr)>;
/// Walks the address list of a field (tokens 0 and 1 are the name and colon) right to
/// left, calling `cb` per address; returns the rewritten field, nullopt on bad syntax.
/// Groups are kept, `<...>` contents are one address, `a b` becomes `a, b`.
std::optional<Tokens> rewrite_addrlist(const Tokens& field, const AddrCallback& cb);

/// True if a local part needs RFC 822 quoting (quote.c's quote_need).
bool quote_needed(std::string_view s);
/// Quotes `s` when needed: `"a b"`.
std::string quote(std::string_view s);
/// Quotes the part before the last `@` when needed (quote2): `a b@x` -> `"a b"@x`.
std::string quote2(std::string_view addr);

/// qmail-inject's completion of incomplete addresses.
class Completion {
 public:
  /// Builds from the host, domain and plus-domain names; nullopt if one does not tokenize.
  static std::optional<Completion> make(std::string_view defaulthost, std::string_view defaultdomain,
                                        std::string_view plusdomain);
  /// rwgeneric: drops source routes and stray `.`/`@`, adds `@defaulthost`, expands a
  /// trailing `+` with plusdomain, appends `.defaultdomain` to a dotless host.
  void complete(Tokens& addr) const;

 private:
  Tokens host_, domain_, plus_;  // "@host", ".domain", ".plus"
};

}  // namespace queue::rfc822
