// An LD_PRELOAD library for tests: a disk that fails writes. While the file named by
// $EIO_INJECT_CONTROL exists, the write-side calls on files under $EIO_INJECT_DIR (and on
// that directory itself) fail with EIO, as on a disk with bad sectors; everything else (other
// paths, sockets, pipes) passes through untouched with errno as the real call left it. The
// test arms and disarms it from outside the process by creating and removing the file; a
// file that starts with "syncs" fails only fsync, fdatasync and sync_file_range. (Not
// LOYALTY_*: the services refuse unknown LOYALTY_ variables as misspelt configuration.)
//
// Interposed: what RocksDB (nm -D librocksdb.so) and ProbeWritable call to write or sync a
// file: write, pwrite, fsync, fdatasync, sync_file_range, fallocate, posix_fallocate,
// ftruncate, and for completeness writev, pwritev and the 64-bit aliases. RocksDB's info LOG
// is written with write() too (its EnvLogger), so it fails like the WAL, as on a real disk.
// Not interposed: stdio (glibc's own write under fwrite cannot be interposed), msync
// (RocksDB writes through mmap only with use_mmap_writes), and metadata calls (rename,
// unlink): the data written before them already fails.
//
// Cheap: whether an fd is under the directory is cached per fd (a readlink of /proc/self/fd
// the first time), and only for fds under it is the control file looked at (an access(), and
// a read while it exists). The cache is
// reset when an fd number is opened, duplicated onto or closed through this library; an fd
// closed past it (fclose inside glibc) may leave a stale entry, so an "under the directory"
// entry is confirmed with a fresh readlink before a call is failed, and a stale "elsewhere"
// entry can only let a write through, never fail a socket.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

enum Where : uint8_t { kUnknown = 0, kElsewhere = 1, kUnder = 2 };
constexpr int kCachedFds = 1 << 16;
std::atomic<uint8_t> where_cache[kCachedFds];  // zero: kUnknown
std::atomic<int> notes_left{20};               // lines on stderr per process

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

struct Config {
  char dir[PATH_MAX] = {};
  size_t dir_len = 0;
  char control[PATH_MAX] = {};
  bool enabled = false;
};

const Config& GetConfig() {
  static const Config config = [] {
    Config c;
    const char* dir = std::getenv("EIO_INJECT_DIR");
    const char* control = std::getenv("EIO_INJECT_CONTROL");
    if (!dir || !control || dir[0] != '/' || control[0] == '\0') return c;
    // /proc/self/fd shows resolved paths; the directory may not exist yet (then as given).
    if (!realpath(dir, c.dir)) std::snprintf(c.dir, sizeof c.dir, "%s", dir);
    c.dir_len = std::strlen(c.dir);
    while (c.dir_len > 1 && c.dir[c.dir_len - 1] == '/') c.dir[--c.dir_len] = '\0';
    std::snprintf(c.control, sizeof c.control, "%s", control);
    c.enabled = true;
    return c;
  }();
  return config;
}

// The file fd refers to, from /proc/self/fd ("socket:[…]" and the like for non-files).
bool FdPath(int fd, char* path, size_t size) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, size - 1);
  if (n < 0) return false;
  path[n] = '\0';
  return true;
}

bool PathUnder(int fd, const Config& config) {
  char path[PATH_MAX];
  if (!FdPath(fd, path, sizeof path)) return false;
  if (std::strncmp(path, config.dir, config.dir_len) != 0) return false;
  return path[config.dir_len] == '\0' || path[config.dir_len] == '/';
}

void Forget(int fd) {
  if (fd >= 0 && fd < kCachedFds) where_cache[fd].store(kUnknown, std::memory_order_relaxed);
}

void Note(int fd, const char* call) {
  if (notes_left.fetch_sub(1, std::memory_order_relaxed) <= 0) return;
  char path[PATH_MAX];
  if (!FdPath(fd, path, sizeof path)) std::snprintf(path, sizeof path, "fd %d", fd);
  char line[PATH_MAX + 64];
  int n = std::snprintf(line, sizeof line, "eio_inject: %s(%s) -> EIO\n", call, path);
  static const auto real_write = Next<decltype(&::write)>("write");
  if (n > 0) (void)real_write(STDERR_FILENO, line, static_cast<size_t>(n));
}

enum Armed { kOff, kEveryCall, kSyncsOnly };

// The control file: absent, off; starting with "syncs", only the sync calls fail (the write
// reached the page cache, its fsync did not reach the disk); anything else, every call.
Armed ReadControl(const Config& config) {
  if (access(config.control, F_OK) != 0) return kOff;
  static const auto real_open = Next<decltype(&::open)>("open");
  static const auto real_close = Next<decltype(&::close)>("close");
  char text[8] = {};
  int fd = real_open(config.control, O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0) {
    (void)read(fd, text, sizeof text - 1);
    real_close(fd);
  }
  return std::strncmp(text, "syncs", 5) == 0 ? kSyncsOnly : kEveryCall;
}

// True (and errno EIO) if this call on fd is to fail; errno is untouched otherwise.
bool Fail(int fd, const char* call, bool sync = false) {
  const Config& config = GetConfig();
  if (!config.enabled || fd < 0) return false;
  const int saved_errno = errno;
  uint8_t where = kUnknown;
  if (fd < kCachedFds) where = where_cache[fd].load(std::memory_order_relaxed);
  if (where == kUnknown) {
    where = PathUnder(fd, config) ? kUnder : kElsewhere;
    if (fd < kCachedFds) where_cache[fd].store(where, std::memory_order_relaxed);
  }
  bool fail = false;
  Armed armed = where == kUnder ? ReadControl(config) : kOff;
  if (armed == kEveryCall || (armed == kSyncsOnly && sync)) {
    // Armed: confirm, since the number may have been closed and reused past this library.
    fail = PathUnder(fd, config);
    if (!fail) Forget(fd);
  }
  if (!fail) {
    errno = saved_errno;
    return false;
  }
  Note(fd, call);
  errno = EIO;
  return true;
}

int OpenMode(int flags, va_list args) {
  return (flags & (O_CREAT | O_TMPFILE)) != 0 ? va_arg(args, int) : 0;
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static const auto real = Next<decltype(&::write)>("write");
  return Fail(fd, "write") ? -1 : real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static const auto real = Next<decltype(&::pwrite)>("pwrite");
  return Fail(fd, "pwrite") ? -1 : real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static const auto real = Next<decltype(&::pwrite64)>("pwrite64");
  return Fail(fd, "pwrite64") ? -1 : real(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static const auto real = Next<decltype(&::writev)>("writev");
  return Fail(fd, "writev") ? -1 : real(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  static const auto real = Next<decltype(&::pwritev)>("pwritev");
  return Fail(fd, "pwritev") ? -1 : real(fd, iov, iovcnt, offset);
}

ssize_t pwritev64(int fd, const struct iovec* iov, int iovcnt, off64_t offset) {
  static const auto real = Next<decltype(&::pwritev64)>("pwritev64");
  return Fail(fd, "pwritev64") ? -1 : real(fd, iov, iovcnt, offset);
}

ssize_t pwritev2(int fd, const struct iovec* iov, int iovcnt, off_t offset, int flags) {
  static const auto real = Next<decltype(&::pwritev2)>("pwritev2");
  return Fail(fd, "pwritev2") ? -1 : real(fd, iov, iovcnt, offset, flags);
}

int fsync(int fd) {
  static const auto real = Next<decltype(&::fsync)>("fsync");
  return Fail(fd, "fsync", /*sync=*/true) ? -1 : real(fd);
}

int fdatasync(int fd) {
  static const auto real = Next<decltype(&::fdatasync)>("fdatasync");
  return Fail(fd, "fdatasync", /*sync=*/true) ? -1 : real(fd);
}

// With flags 0 the kernel does nothing and cannot fail (RocksDB calls it so to probe for
// support when it opens a file, and asserts that only ENOSYS comes back).
int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static const auto real = Next<decltype(&::sync_file_range)>("sync_file_range");
  if (flags != 0 && Fail(fd, "sync_file_range", /*sync=*/true)) return -1;
  return real(fd, offset, nbytes, flags);
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
  static const auto real = Next<decltype(&::fallocate)>("fallocate");
  return Fail(fd, "fallocate") ? -1 : real(fd, mode, offset, len);
}

int fallocate64(int fd, int mode, off64_t offset, off64_t len) {
  static const auto real = Next<decltype(&::fallocate64)>("fallocate64");
  return Fail(fd, "fallocate64") ? -1 : real(fd, mode, offset, len);
}

// Returns the error instead of setting errno.
int posix_fallocate(int fd, off_t offset, off_t len) {
  static const auto real = Next<decltype(&::posix_fallocate)>("posix_fallocate");
  return Fail(fd, "posix_fallocate") ? EIO : real(fd, offset, len);
}

int ftruncate(int fd, off_t length) {
  static const auto real = Next<decltype(&::ftruncate)>("ftruncate");
  return Fail(fd, "ftruncate") ? -1 : real(fd, length);
}

int ftruncate64(int fd, off64_t length) {
  static const auto real = Next<decltype(&::ftruncate64)>("ftruncate64");
  return Fail(fd, "ftruncate64") ? -1 : real(fd, length);
}

// Where an fd number starts or stops referring to a file, its cached answer goes.

int open(const char* path, int flags, ...) {
  static const auto real = Next<decltype(&::open)>("open");
  va_list args;
  va_start(args, flags);
  int mode = OpenMode(flags, args);
  va_end(args);
  int fd = real(path, flags, mode);
  Forget(fd);
  return fd;
}

int open64(const char* path, int flags, ...) {
  static const auto real = Next<decltype(&::open64)>("open64");
  va_list args;
  va_start(args, flags);
  int mode = OpenMode(flags, args);
  va_end(args);
  int fd = real(path, flags, mode);
  Forget(fd);
  return fd;
}

int openat(int dirfd, const char* path, int flags, ...) {
  static const auto real = Next<decltype(&::openat)>("openat");
  va_list args;
  va_start(args, flags);
  int mode = OpenMode(flags, args);
  va_end(args);
  int fd = real(dirfd, path, flags, mode);
  Forget(fd);
  return fd;
}

int openat64(int dirfd, const char* path, int flags, ...) {
  static const auto real = Next<decltype(&::openat64)>("openat64");
  va_list args;
  va_start(args, flags);
  int mode = OpenMode(flags, args);
  va_end(args);
  int fd = real(dirfd, path, flags, mode);
  Forget(fd);
  return fd;
}

int close(int fd) {
  static const auto real = Next<decltype(&::close)>("close");
  Forget(fd);
  return real(fd);
}

int dup(int old_fd) {
  static const auto real = Next<decltype(&::dup)>("dup");
  int fd = real(old_fd);
  Forget(fd);
  return fd;
}

int dup2(int old_fd, int new_fd) {
  static const auto real = Next<decltype(&::dup2)>("dup2");
  int fd = real(old_fd, new_fd);
  Forget(new_fd);
  return fd;
}

int dup3(int old_fd, int new_fd, int flags) {
  static const auto real = Next<decltype(&::dup3)>("dup3");
  int fd = real(old_fd, new_fd, flags);
  Forget(new_fd);
  return fd;
}

}  // extern "C"
