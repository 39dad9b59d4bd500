// qmail-send's control files (see controls.h).
#include "queue/controls.h"

#include "queue/spawn_proto.h"

#include <optional>

#include "reactor/control.h"

namespace queue {

bool Controls::is_local(const std::string& domain) const {
  return locals.count(reactor::lowercase(domain)) != 0;
}

const std::string* Controls::vdom(const std::string& key) const {
  auto it = virtualdomains.find(reactor::lowercase(key));
  return it == virtualdomains.end() ? nullptr : &it->second;
}

namespace {

using reactor::Error;

// A single-line control with qmail's control_rldef: missing -> me (when
// `use_me`) -> the literal default.
reactor::Status line_default(const std::string& path, const std::string& me, bool use_me,
                             const std::string& literal, std::string& out) {
  auto r = reactor::control_line(path);
  if (!r) return r.error();
  if (*r) out = **r;
  else if (use_me && !me.empty()) out = me;
  else out = literal;
  return {};
}

reactor::Status number(const std::string& path, unsigned long& out) {
  auto r = reactor::control_number(path);
  if (!r) return r.error();
  if (*r) out = **r;
  return {};
}

}  // namespace

reactor::Result<Controls> load_controls(const std::string& dir) {
  Controls c;
  auto p = [&](const char* name) { return dir + "/" + name; };

  auto me = reactor::control_line(p("me"));
  if (!me) return me.error();
  if (*me) c.me = **me;

  auto locals = reactor::control_list(p("locals"));
  if (!locals) return locals.error();
  if (*locals) {
    for (auto& d : **locals) c.locals.insert(reactor::lowercase(d));
  } else if (*me) {
    c.locals.insert(reactor::lowercase(c.me));
  } else {
    // qmail-send refuses to start without any local domain.
    return reactor::temp_error("neither control/locals nor control/me exists");
  }

  auto ph = reactor::control_list(p("percenthack"));
  if (!ph) return ph.error();
  if (*ph)
    for (auto& d : **ph) c.percenthack.insert(reactor::lowercase(d));

  auto vd = reactor::control_list(p("virtualdomains"));
  if (!vd) return vd.error();
  if (*vd) {
    for (auto& line : **vd) {
      // Key up to the first colon; a line without a colon is ignored, as
      // constmap does with flagcolon set.
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string key = reactor::lowercase(line.substr(0, colon));
      // constmap keeps the first of duplicate keys.
      c.virtualdomains.emplace(key, line.substr(colon + 1));
    }
  }

  reactor::Status s;
  if (!(s = line_default(p("envnoathost"), c.me, true, "envnoathost", c.envnoathost))) return s.error();
  if (!(s = line_default(p("bouncefrom"), c.me, false, "MAILER-DAEMON", c.bouncefrom))) return s.error();
  if (!(s = line_default(p("bouncehost"), c.me, true, "bouncehost", c.bouncehost))) return s.error();
  if (!(s = line_default(p("doublebounceto"), c.me, false, "postmaster", c.doublebounceto))) return s.error();
  if (!(s = line_default(p("doublebouncehost"), c.me, true, "doublebouncehost", c.doublebouncehost)))
    return s.error();

  // evqmail's opt-in bounce controls (queue.md 4.7): an unknown format is an
  // error, so a typo never silently falls back to the other format.
  auto bf = reactor::control_line(p("bounceformat"));
  if (!bf) return bf.error();
  if (*bf) {
    auto f = parse_bounce_format(**bf);
    if (!f) return reactor::temp_error("control/bounceformat: unknown format " + **bf);
    c.bounceformat = *f;
  }
  if (!(s = number(p("bouncemaxbytes"), c.bouncemaxbytes))) return s.error();

  unsigned long cl = c.concurrency[0], cr = c.concurrency[1];
  if (!(s = number(p("concurrencylocal"), cl))) return s.error();
  if (!(s = number(p("concurrencyremote"), cr))) return s.error();
  if (!(s = number(p("queuelifetime"), c.queuelifetime))) return s.error();
  // The spawn protocol carries slot numbers in one byte.
  c.concurrency[0] = static_cast<unsigned>(std::min<unsigned long>(cl, proto::kMaxWideSlots));
  c.concurrency[1] = static_cast<unsigned>(std::min<unsigned long>(cr, proto::kMaxWideSlots));
  return c;
}

}  // namespace queue
