#pragma once
// Constant databases (D. J. Bernstein's cdb format) through tinycdb: a reader
// that maps a file and an atomic writer (temporary file, fsync, rename) so
// that readers always see either the old or the new database.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cdb.h>

#include "reactor/fd.h"
#include "reactor/result.h"

namespace reactor {

/// Read-only view of one cdb file.
class CdbReader {
 public:
  CdbReader() = default;
  ~CdbReader();
  CdbReader(const CdbReader&) = delete;
  CdbReader& operator=(const CdbReader&) = delete;
  /// Opens `path`. Missing file: perm_error("ENOENT"); other failures temporary.
  Status open(const std::string& path);
  bool is_open() const { return open_; }
  /// First value stored under `key`, or nullopt.
  std::optional<std::string> find(std::string_view key);
  /// Every value stored under `key`, in file order.
  std::vector<std::string> find_all(std::string_view key);

 private:
  struct cdb cdb_ {};
  UniqueFd fd_;
  bool open_ = false;
};

/// Builds a cdb into `path.tmp` and renames it over `path` on commit().
class CdbWriter {
 public:
  CdbWriter() = default;
  ~CdbWriter();
  CdbWriter(const CdbWriter&) = delete;
  CdbWriter& operator=(const CdbWriter&) = delete;
  /// Starts writing; `tmp` defaults to `path + ".tmp"`.
  Status create(const std::string& path, mode_t mode = 0644, std::string tmp = "");
  /// Adds one record (duplicates are kept, as cdbmake does).
  Status add(std::string_view key, std::string_view value);
  /// Finishes the file, fsyncs and renames it into place.
  Status commit();

 private:
  struct cdb_make cdbm_ {};
  UniqueFd fd_;
  std::string path_, tmp_;
  bool started_ = false;
};

}  // namespace reactor
