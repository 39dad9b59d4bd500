// RFC 822 tokens and address lists (see rfc822.h).
#include "queue/rfc822.h"

#include <algorithm>

namespace queue::rfc822 {

namespace {

// Characters that end an atom (token822's atomok).
bool atom_char(char c) {
  switch (c) {
    case ' ': case '\t': case '\r': case '\n': case '(': case '[': case '"':
    case '<': case '>': case ';': case ':': case '@': case ',': case '.':
      return false;
    default:
      return true;
  }
}

bool wordlike(Tok t) { return t == Tok::atom || t == Tok::literal || t == Tok::quote || t == Tok::comment; }

// Whether unparse puts a space between two tokens.
bool need_space(std::optional<Tok> prev, Tok next) {
  if (!prev) return false;
  if (*prev == Tok::colon || *prev == Tok::comma) return true;
  if (next == Tok::left) return true;
  return wordlike(*prev) && wordlike(next);
}

// At a backslash text[i]: moves to the character it quotes and returns true,
// or returns false at the end of the text. A backslash before a line break
// quotes nothing (RFC 5322 quotes only visible characters and blanks): it
// stands for itself, and the line break stays the fold it is, so a field's
// own final newline can never become part of a token.
bool escapes(std::string_view text, size_t& i) {
  if (i + 1 >= text.size()) return false;
  if (text[i + 1] != '\n') ++i;
  return true;
}

// Reads a quoted string or literal whose opening character is text[i]; `close`
// ends it, backslash quotes the next character. False if unterminated.
bool read_bracketed(std::string_view text, size_t& i, char close, std::string& out) {
  for (;;) {
    if (++i >= text.size()) return false;
    char c = text[i];
    if (c == close) {
      return true;
    } else if (c == '\\') {
      if (!escapes(text, i)) return false;
      out += text[i];
    } else {
      out += c;
    }
  }
}

// The character of a punctuation token.
char punct_char(Tok t) {
  switch (t) {
    case Tok::comma: return ',';
    case Tok::at: return '@';
    case Tok::dot: return '.';
    case Tok::left: return '<';
    case Tok::right: return '>';
    case Tok::semi: return ';';
    case Tok::colon: return ':';
    default: return '?';
  }
}

}  // namespace

std::optional<Tokens> parse(std::string_view text) {
  Tokens out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case '.': out.push_back({Tok::dot, {}}); break;
      case ',': out.push_back({Tok::comma, {}}); break;
      case '@': out.push_back({Tok::at, {}}); break;
      case '<': out.push_back({Tok::left, {}}); break;
      case '>': out.push_back({Tok::right, {}}); break;
      case ':': out.push_back({Tok::colon, {}}); break;
      case ';': out.push_back({Tok::semi, {}}); break;
      case ' ': case '\t': case '\r': case '\n': break;
      case ')': case ']': return std::nullopt;
      case '(': {
        // Comments nest; token822 drops every unescaped parenthesis from the text.
        Token t{Tok::comment, {}};
        int level = 1;
        while (level) {
          if (++i >= text.size()) return std::nullopt;
          char d = text[i];
          if (d == '(') ++level;
          else if (d == ')') --level;
          else if (d == '\\' && !escapes(text, i)) return std::nullopt;
          if (d == '(' || d == ')') continue;
          t.s += text[i];
        }
        out.push_back(std::move(t));
        break;
      }
      case '"': {
        Token t{Tok::quote, {}};
        if (!read_bracketed(text, i, '"', t.s)) return std::nullopt;
        out.push_back(std::move(t));
        break;
      }
      case '[': {
        Token t{Tok::literal, {}};
        if (!read_bracketed(text, i, ']', t.s)) return std::nullopt;
        out.push_back(std::move(t));
        break;
      }
      default: {
        Token t{Tok::atom, {}};
        do {
          if (text[i] == '\\' && !escapes(text, i)) {
            i = text.size();  // a backslash that ends the text quotes nothing
            break;
          }
          t.s += text[i];
          if (++i >= text.size()) break;
        } while (atom_char(text[i]));
        --i;
        // An atom with control, non-ASCII or quoting characters is written back
        // quoted, and so is one holding an escaped character that would end an
        // atom (`a\@b`): written raw it would read back as other tokens.
        for (unsigned char u : t.s)
          if (u < 32 || u > 126 || u == ')' || u == ']' || u == '\\' || !atom_char(static_cast<char>(u))) {
            t.type = Tok::quote;
            break;
          }
        out.push_back(std::move(t));
      }
    }
  }
  return out;
}

std::string unparse(const Tokens& tokens, size_t linelen) {
  std::string s;
  size_t lineb = 0;
  size_t linee = std::string::npos;
  // After each comma a tentative line break "\n " is written; when the next one
  // comes and the line still fits, the previous break is taken out again.
  auto soft_break = [&] {
    if (linee != std::string::npos && (linelen == 0 || s.size() - lineb <= linelen)) {
      s.erase(linee, 2);
      linee = s.size();
      s += "\n ";
    } else {
      if (linee != std::string::npos) lineb = linee + 1;
      linee = s.size();
      s += "\n ";
    }
  };
  std::optional<Tok> last;
  for (const Token& t : tokens) {
    if (need_space(last, t.type)) s += ' ';
    last = t.type;
    switch (t.type) {
      case Tok::comma: s += ','; soft_break(); break;
      case Tok::at: case Tok::dot: case Tok::left: case Tok::right: case Tok::semi: case Tok::colon:
        s += punct_char(t.type);
        break;
      case Tok::atom: case Tok::quote: case Tok::literal: case Tok::comment: {
        const char* open = t.type == Tok::quote ? "\"" : t.type == Tok::literal ? "[" : t.type == Tok::comment ? "(" : "";
        const char* close = t.type == Tok::quote ? "\"" : t.type == Tok::literal ? "]" : t.type == Tok::comment ? ")" : "";
        s += open;
        for (size_t k = 0; k < t.s.size(); ++k) {
          char c = t.s[k];
          switch (c) {
            case '"': case '[': case ']': case '(': case ')': case '\\': case '\r':
              s += '\\';
              break;
            default: break;
          }
          s += c;
          // A line break inside a token is folding: the next line must start
          // with a blank, or it would begin a header field of its own.
          if (c == '\n' && (k + 1 == t.s.size() || (t.s[k + 1] != ' ' && t.s[k + 1] != '\t'))) s += ' ';
        }
        s += close;
        break;
      }
    }
  }
  soft_break();
  s.pop_back();  // the space of the final break; the field ends in "\n"
  return s;
}

std::string unquote(const Tokens& tokens) {
  std::string s;
  for (const Token& t : tokens) {
    switch (t.type) {
      case Tok::comma: case Tok::at: case Tok::dot: case Tok::left: case Tok::right: case Tok::semi:
      case Tok::colon:
        s += punct_char(t.type);
        break;
      case Tok::literal: s += '['; s += t.s; s += ']'; break;
      case Tok::atom: case Tok::quote: s += t.s; break;
      case Tok::comment: break;
    }
  }
  return s;
}

std::optional<Tokens> rewrite_addrlist(const Tokens& ta, const AddrCallback& cb) {
  // RFC 822 address lists are easiest to parse from right to left: `out` and
  // `addr` collect tokens in reverse and are turned around at the end.
  Tokens out, addr;
  const long beginning = 2;
  long t = static_cast<long>(ta.size()) - 1;
  bool ingroup = false, wordok = true;
  auto got = [&] {
    std::reverse(addr.begin(), addr.end());
    cb(addr);
    out.insert(out.end(), addr.rbegin(), addr.rend());
    addr.clear();
  };
  auto flush = [&] { if (!addr.empty()) got(); };
  auto flush_comma = [&] {
    if (!addr.empty()) {
      got();
      out.push_back({Tok::comma, {}});
    }
  };
  auto addr_left = [&] { addr.push_back(ta[static_cast<size_t>(t--)]); };
  auto out_left = [&] { out.push_back(ta[static_cast<size_t>(t--)]); };
  auto at = [&](Tok k) { return ta[static_cast<size_t>(t)].type == k; };

  while (t >= beginning) {
    switch (ta[static_cast<size_t>(t)].type) {
      case Tok::semi:
        flush_comma();
        if (ingroup) return std::nullopt;
        ingroup = true;
        wordok = true;
        out_left();
        break;
      case Tok::colon:
        // The group's name and its colon go to the output as they are.
        flush();
        if (!ingroup) return std::nullopt;
        ingroup = false;
        while (t >= beginning && !at(Tok::comma)) out_left();
        if (t >= beginning) out_left();
        wordok = true;
        break;
      case Tok::right:
        flush_comma();
        out_left();
        while (t >= beginning && !at(Tok::left)) addr_left();
        got();  // even when empty: <> is an address
        if (t < beginning) return std::nullopt;
        out_left();
        // The phrase before `<` stays as it is.
        while (t >= beginning && (at(Tok::comment) || at(Tok::atom) || at(Tok::quote) || at(Tok::at) || at(Tok::dot)))
          out_left();
        wordok = false;
        break;
      case Tok::atom: case Tok::quote: case Tok::literal:
        // Two words in a row are two addresses: `djb fred` -> `djb, fred`.
        if (!wordok) flush_comma();
        wordok = false;
        addr_left();
        break;
      case Tok::comment:
        out_left();  // lexically a space; does not change wordok
        break;
      case Tok::comma:
        flush();
        wordok = true;
        out_left();
        break;
      default:
        wordok = true;
        addr_left();
        break;
    }
  }
  flush();
  for (long j = std::min<long>(static_cast<long>(ta.size()) - 1, beginning - 1); j >= 0; --j)
    out.push_back(ta[static_cast<size_t>(j)]);
  std::reverse(out.begin(), out.end());
  return out;
}

bool quote_needed(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char u : s) {
    if (u >= 128 || u <= 32 || u == 127) return true;
    switch (u) {
      case '"': case '(': case ')': case ',': case ':': case ';': case '<': case '>':
      case '@': case '[': case '\\': case ']':
        return true;
      default: break;
    }
  }
  if (s.front() == '.' || s.back() == '.') return true;
  return s.find("..") != std::string_view::npos;
}

std::string quote(std::string_view s) {
  if (!quote_needed(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote2(std::string_view addr) {
  if (addr.empty()) return {};
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return quote(addr);
  return quote(addr.substr(0, at)) + std::string(addr.substr(at));
}

std::optional<Completion> Completion::make(std::string_view defaulthost, std::string_view defaultdomain,
                                           std::string_view plusdomain) {
  auto h = parse("@" + std::string(defaulthost));
  auto d = parse("." + std::string(defaultdomain));
  auto p = parse("." + std::string(plusdomain));
  if (!h || !d || !p) return std::nullopt;
  Completion c;
  c.host_ = std::move(*h);
  c.domain_ = std::move(*d);
  c.plus_ = std::move(*p);
  return c;
}

void Completion::complete(Tokens& a) const {
  if (a.empty()) return;  // <> stays <>
  // <foo@[]> is the per-recipient VERP template: leave it alone.
  if (a.size() >= 2 && a.back().type == Tok::literal && a.back().s.empty() && a[a.size() - 2].type == Tok::at)
    return;
  // Source route <@a,@b:user@host>: drop everything up to the colon.
  if (a.front().type == Tok::at) {
    auto colon = std::find_if(a.begin(), a.end(), [](const Token& t) { return t.type == Tok::colon; });
    a.erase(a.begin(), colon == a.end() ? a.end() : colon + 1);
    if (a.empty()) return;
  }
  if (a.back().type == Tok::dot) a.pop_back();
  if (a.empty()) return;
  if (a.back().type == Tok::at) a.pop_back();
  if (a.empty()) return;
  bool has_at = std::any_of(a.begin(), a.end(), [](const Token& t) { return t.type == Tok::at; });
  if (!has_at) a.insert(a.end(), host_.begin(), host_.end());
  // host+ -> host.plusdomain
  if (a.back().type == Tok::atom && !a.back().s.empty() && a.back().s.back() == '+') {
    a.back().s.pop_back();
    a.insert(a.end(), plus_.begin(), plus_.end());
  }
  // A dotless host name (not a literal) gets .defaultdomain.
  for (auto it = a.rbegin(); it != a.rend() && it->type != Tok::at; ++it)
    if (it->type == Tok::dot || it->type == Tok::literal) return;
  a.insert(a.end(), domain_.begin(), domain_.end());
}

}  // namespace queue::rfc822
