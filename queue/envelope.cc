// Envelope record decoding (see envelope.h).
#include "queue/envelope.h"

namespace queue {

std::vector<EnvRecord> split_records(std::string_view data, bool* complete) {
  std::vector<EnvRecord> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t z = data.find('\0', pos);
    if (z == std::string_view::npos) break;  // incomplete record: not ours to guess
    EnvRecord r;
    r.offset = static_cast<off_t>(pos);
    if (z > pos) {
      r.type = data[pos];
      r.value.assign(data.substr(pos + 1, z - pos - 1));
    }
    out.push_back(std::move(r));
    pos = z + 1;
  }
  if (complete) *complete = pos == data.size();
  return out;
}

bool parse_info(std::string_view data, std::string& sender) {
  size_t z = data.find('\0');
  if (z == std::string_view::npos || z == 0 || data[0] != 'F') return false;
  sender.assign(data.substr(1, z - 1));
  return true;
}

std::string encode_info(std::string_view sender) {
  std::string s = "F";
  s.append(sender);
  s += '\0';
  return s;
}

}  // namespace queue
