// cdb reader and atomic writer over tinycdb (see cdb.h).
#include "reactor/cdb.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace reactor {

CdbReader::~CdbReader() {
  if (open_) cdb_free(&cdb_);
}

Status CdbReader::open(const std::string& path) {
  if (open_) {
    cdb_free(&cdb_);
    open_ = false;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return perm_error("ENOENT");
    return temp_error("unable to open " + path + ": " + errno_text(errno));
  }
  fd_.reset(fd);
  if (cdb_init(&cdb_, fd) != 0) return temp_error("unable to read cdb " + path);
  open_ = true;
  return {};
}

std::optional<std::string> CdbReader::find(std::string_view key) {
  if (!open_) return std::nullopt;
  if (cdb_find(&cdb_, key.data(), static_cast<unsigned>(key.size())) <= 0) return std::nullopt;
  unsigned len = cdb_datalen(&cdb_);
  const char* p = static_cast<const char*>(cdb_get(&cdb_, len, cdb_datapos(&cdb_)));
  if (!p) return std::nullopt;
  return std::string(p, len);
}

std::vector<std::string> CdbReader::find_all(std::string_view key) {
  std::vector<std::string> out;
  if (!open_) return out;
  struct cdb_find cf;
  if (cdb_findinit(&cf, &cdb_, key.data(), static_cast<unsigned>(key.size())) < 0) return out;
  while (cdb_findnext(&cf) > 0) {
    unsigned len = cdb_datalen(&cdb_);
    const char* p = static_cast<const char*>(cdb_get(&cdb_, len, cdb_datapos(&cdb_)));
    if (p) out.emplace_back(p, len);
  }
  return out;
}

CdbWriter::~CdbWriter() {
  if (started_) ::unlink(tmp_.c_str());
}

Status CdbWriter::create(const std::string& path, mode_t mode, std::string tmp) {
  path_ = path;
  tmp_ = tmp.empty() ? path + ".tmp" : std::move(tmp);
  int fd = ::open(tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return temp_error("unable to create " + tmp_ + ": " + errno_text(errno));
  fd_.reset(fd);
  cdb_make_start(&cdbm_, fd);
  started_ = true;
  return {};
}

Status CdbWriter::add(std::string_view key, std::string_view value) {
  if (cdb_make_add(&cdbm_, key.data(), static_cast<unsigned>(key.size()), value.data(),
                   static_cast<unsigned>(value.size())) != 0)
    return temp_error("unable to write " + tmp_ + ": " + errno_text(errno));
  return {};
}

Status CdbWriter::commit() {
  if (cdb_make_finish(&cdbm_) != 0 || ::fsync(fd_.get()) != 0)
    return temp_error("unable to write " + tmp_ + ": " + errno_text(errno));
  fd_.reset();
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    return temp_error("unable to move " + tmp_ + " to " + path_ + ": " + errno_text(errno));
  started_ = false;
  return {};
}

}  // namespace reactor
