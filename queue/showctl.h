#pragma once
// qmail-showctl(8): the build-time settings and, for every control file
// qmail knows, its effective value with an explanation of the default;
// evqmail adds warnings for dangerous or broken combinations (tools.md 4).

#include <string>
#include <utility>
#include <vector>

namespace queue {

/// Build-time and account settings shown first.
struct BuildInfo {
  std::string home;
  char conf_break = '-';
  unsigned conf_patrn = 2;
  int conf_spawn = 120;
  int conf_split = 23;
  std::vector<std::pair<std::string, std::string>> users;   ///< name, uid (or "unknown")
  std::vector<std::pair<std::string, std::string>> groups;  ///< name, gid
};

/// The settings of this build and this system's accounts.
BuildInfo current_build_info();
/// The first block of qmail-showctl's output.
std::string show_build(const BuildInfo& b);

/// Control-file section of the output plus the warnings found.
struct ControlReport {
  std::string text;
  std::vector<std::string> warnings;  ///< "warning: ..." lines, also at the end of text
};
/// Describes every control file in directory `control_dir` (e.g. "control").
ControlReport show_controls(const std::string& control_dir);

}  // namespace queue
