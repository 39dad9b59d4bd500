// Runs a fuzz harness over files and folders of inputs, once each: how
// make check replays the committed seed corpora and the regression inputs
// of past findings without libFuzzer.  Prints one line per harness run.

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz.h"

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

bool collect(const std::string& path, std::vector<std::string>& files) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  if (!S_ISDIR(st.st_mode)) {
    files.push_back(path);
    return true;
  }
  DIR* d = opendir(path.c_str());
  if (!d) return false;
  std::vector<std::string> names;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) files.push_back(path + "/" + n);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], files)) {
      std::fprintf(stderr, "%s: fatal: unable to read %s\n", argv[0], argv[i]);
      return 111;
    }
  }
  for (const auto& f : files) {
    std::string data;
    if (!read_file(f, data)) {
      std::fprintf(stderr, "%s: fatal: unable to read %s\n", argv[0], f.c_str());
      return 111;
    }
    // A copy the exact size of the input, so a read past the end is seen.
    std::vector<uint8_t> buf(data.begin(), data.end());
    std::fprintf(stderr, "%s: %s\n", argv[0], f.c_str());
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("%s: %zu inputs replayed\n", argv[0], files.size());
  return 0;
}
