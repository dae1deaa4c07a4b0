// What a service does when its disk fills up or fails a write: it stops acknowledging and
// resumes by itself, losing nothing it acknowledged.
//
// - A failed store write restarts the process in place (it execs its own command line, with
//   the ports it had bound), at the first file write or sync inside RocksDB that fails
//   (common/fail_stop_fs.h). Memory is then ahead of disk, so the only honest way on is the
//   way a crash takes: recover from what is on disk (the kill -9 tests prove that path). The
//   callers of the failed group never get an answer; their connections drop (UNAVAILABLE).
// - At start, while the data directory has less than store.disk_min_free_bytes free or
//   cannot take a small synced write, the service waits: health reports NOT_SERVING, every other
//   method answers UNAVAILABLE, no consumer runs, /metrics shows loyalty_store_writable 0; it tries
//   again every second.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace loyalty {

// OK if dir's file system has min_free_bytes free and takes a small synced write (a probe
// file, deleted again); else UNAVAILABLE saying why.
Status ProbeWritable(const std::string& dir, int64_t min_free_bytes);

// Remembers the command line for RestartInPlace. Call once at start.
void RememberCommandLine(int argc, char** argv);
// Flags appended to the remembered command line on a restart in place (e.g. the bound
// ports, so that clients find the service where it was).
void SetRestartFlags(std::vector<std::string> flags);
// Logs why and execs the remembered command line. Never returns (aborts if exec fails).
[[noreturn]] void RestartInPlace(const std::string& reason);

struct WaitForDiskOptions {
  std::string service;  // "accrual": health answers for loyalty.v1.AccrualService too
  std::string data_dir;
  int64_t min_free_bytes = 0;
  std::string grpc_address;
  std::string metrics_address;
  std::string ports_file;  // written with the stand-in's ports if not empty
  std::shared_ptr<grpc::ServerCredentials> credentials;  // the service's own (grpc_tls.h)
};
struct BoundPorts {
  int grpc = 0;
  int metrics = 0;
};

// Returns at once ({0, 0}) if the data directory is writable. Otherwise serves the stand-in
// described above until it is, and returns the ports the stand-in had bound, for the real
// server to bind again. Exits the process on SIGTERM or SIGINT.
BoundPorts WaitForWritableDisk(const WaitForDiskOptions& options);

// "accrual" -> "loyalty.v1.AccrualService", the name health checks may ask for.
std::string FullServiceName(const std::string& service);

}  // namespace loyalty
