// Bounded input-file reading for the CLI (see sandbox/input_file.h).
#include "sandbox/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace lockstep::sandbox {
namespace {

std::string FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

absl::StatusOr<std::string> ReadInputFile(const std::string& path, int64_t max_bytes,
                                          const std::string& role) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before it is rejected.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", role, " '", path, "': ", strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string kind = fstat(fd, &st) == 0 ? FileKind(st.st_mode) : strerror(errno);
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        role, " '", path, "' is ", kind, "; give a regular file"));
  }
  auto too_large = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        role, " '", path, "' is larger than the limit of ", max_bytes, " bytes; give a smaller file"));
  };
  if (st.st_size > max_bytes) {
    close(fd);
    return too_large();
  }
  std::string content;
  content.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  // One byte past the cap: a file that grows while it is read is caught too.
  char extra[4096];
  for (;;) {
    char* into = done < content.size() ? content.data() + done : extra;
    const size_t room = done < content.size() ? content.size() - done : sizeof(extra);
    const ssize_t n = read(fd, into, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = strerror(errno);
      close(fd);
      return absl::InternalError(absl::StrCat("cannot read ", role, " '", path, "': ", why));
    }
    if (n == 0) break;
    if (into == extra) {
      if (static_cast<int64_t>(content.size() + static_cast<size_t>(n)) > max_bytes) {
        close(fd);
        return too_large();
      }
      content.append(extra, static_cast<size_t>(n));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  content.resize(done);  // the file may have shrunk while it was read
  return content;
}

absl::Status LoadRunRequestFiles(const std::string& source_path, const std::string& stdin_path,
                                 const std::string& expected_path, const InputLimits& limits,
                                 RunRequest* request) {
  auto source = ReadInputFile(source_path, limits.max_source_bytes, "program file");
  if (!source.ok()) return source.status();
  request->source = std::move(*source);
  if (!stdin_path.empty()) {
    auto data = ReadInputFile(stdin_path, limits.max_stdin_bytes, "--stdin file");
    if (!data.ok()) return data.status();
    request->stdin_data = std::move(*data);
  }
  if (!expected_path.empty()) {
    auto expected = ReadInputFile(expected_path, limits.max_expected_stdout_bytes, "--expect file");
    if (!expected.ok()) return expected.status();
    request->expected_stdout = std::move(*expected);
  }
  return ValidateLimits(request->limits);
}

}  // namespace lockstep::sandbox
