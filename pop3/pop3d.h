#pragma once
// The transaction state of qmail-pop3d(8) as a pure machine: command lines in,
// replies and "stream message i" requests out; deletions applied only at QUIT
// through a FileOps seam (unlink deleted, move new/ to cur/ with ":2,").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pop3 {

/// One message of the session, numbered from 1 in vector order.
struct Message {
  std::string path;  ///< relative to the Maildir: "new/NAME" or "cur/NAME:2,FLAGS"
  uint64_t size = 0; ///< bytes on disk (LF line ends), as qmail reports
  bool deleted = false;
};

/// The file operations QUIT needs; real ones in mailbox.h, fakes in tests.
class FileOps {
 public:
  virtual ~FileOps() = default;
  /// Removes a message file; false on failure.
  virtual bool unlink(const std::string& path) = 0;
  /// Renames a message file; false on failure.
  virtual bool rename(const std::string& from, const std::string& to) = 0;
};

/// Switches that change qmail's visible behaviour.
struct Pop3dOptions {
  bool qmail_stat = false;  ///< STAT counts deleted messages too, as qmail-pop3d does
  bool capa = true;         ///< answer CAPA (RFC 2449) instead of "-ERR unimplemented"
};

/// What the driver does after one command: send `reply`, then (if blast >= 0)
/// stream message `blast` with body-line limit `limit`, then close if `quit`.
struct Action {
  std::string reply;
  int blast = -1;
  uint64_t limit = 0;  ///< 0: whole message; else k+1 for "TOP n k" (qmail's encoding)
  bool quit = false;
};

/// One POP3 transaction session over a fixed list of messages.
class Pop3d {
 public:
  Pop3d(std::vector<Message> messages, FileOps& ops, Pop3dOptions opt = {});
  /// The reply to the successful login ("+OK ").
  static std::string greeting() { return "+OK \r\n"; }
  /// Handles one command line (without LF).
  Action command(std::string_view line);
  /// Message i (0-based).
  const Message& message(size_t i) const { return msgs_[i]; }
  size_t size() const { return msgs_.size(); }
  /// The UIDL of message i: its name without new/ or cur/ and without ":info".
  std::string uidl(size_t i) const;
  bool quit() const { return quit_; }

 private:
  /// 0-based index of an undeleted message named by `arg`, or -1 with `err` set.
  long msgno(std::string_view arg, std::string& err) const;
  Action stat() const;
  Action listing(std::string_view arg, bool uidl) const;
  Action top(std::string_view arg, bool retr);
  Action dele(std::string_view arg);
  Action rset();
  Action commit();
  Action capa() const;

  std::vector<Message> msgs_;
  FileOps& ops_;
  Pop3dOptions opt_;
  size_t last_ = 0;
  bool quit_ = false;
};

}  // namespace pop3
