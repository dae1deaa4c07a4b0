#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/test_pki.h"

namespace loyalty::testing {

std::string BinDir() {
  if (const char* dir = std::getenv("LOYALTY_BIN_DIR")) return dir;
  // Test binaries are built next to the services.
  return std::filesystem::canonical("/proc/self/exe").parent_path().string();
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path,
                           std::vector<std::string> env)
    : argv_(std::move(argv)), log_path_(std::move(log_path)), env_(std::move(env)) {}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  Signal(SIGTERM);
  if (Wait(std::chrono::seconds(10)) == -1) {
    Signal(SIGKILL);
    Wait();
  }
}

void ChildProcess::Start() {
  if (pid_ > 0) throw std::runtime_error("already running: " + argv_[0]);
  // Built before fork: the child of a threaded process may only make async-signal-safe calls.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(env_.begin(), env_.end(), [&](const std::string& mine) {
      return mine.compare(0, name.size() + 1, name + "=") == 0;
    });
    if (!replaced) env.push_back(std::move(entry));
  }
  env.insert(env.end(), env_.begin(), env_.end());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    // Signals blocked in the test (none normally) must not leak into the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    std::perror("execve");
    _exit(127);
  }
  pid_ = pid;
}

void ChildProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ChildProcess::LogTail(size_t bytes) const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

std::string WaitForFile(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      if (!ss.str().empty()) return ss.str();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("timed out waiting for " + path);
}

std::map<std::string, int> ReadPortsFile(const std::string& path) {
  std::string text = WaitForFile(path);
  std::map<std::string, int> ports;
  std::regex entry("\"([a-z_]+)\"\\s*:\\s*([0-9]+)");
  for (std::sregex_iterator it(text.begin(), text.end(), entry), end; it != end; ++it) {
    ports[(*it)[1]] = std::stoi((*it)[2]);
  }
  return ports;
}

std::string RunShell(const std::string& command, int* exit_code) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    throw std::runtime_error("write failed");
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? response : response.substr(body + 4);
}

DevKafka::DevKafka(const std::string& dir, int partitions) {
  std::filesystem::create_directories(dir);
  if (std::string real = RealKafkaBootstrap(); !real.empty()) {
    bootstrap_ = real;
    RecreateTopics(bootstrap_, PlatformTopics(), partitions);
    return;
  }
  std::string bootstrap_file = dir + "/bootstrap";
  std::filesystem::remove(bootstrap_file);
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{BinDir() + "/loyalty-devkafka", "--bootstrap-file=" + bootstrap_file,
                               "--partitions=" + std::to_string(partitions)},
      dir + "/devkafka.log");
  process_->Start();
  bootstrap_ = WaitForFile(bootstrap_file);
  while (!bootstrap_.empty() && (bootstrap_.back() == '\n' || bootstrap_.back() == ' ')) {
    bootstrap_.pop_back();
  }
}

ServiceProcess::ServiceProcess(const std::string& name, const std::string& dir,
                               const std::string& brokers, std::vector<std::string> extra_flags,
                               std::vector<std::string> extra_env) {
  std::string home = dir + "/" + name;
  std::filesystem::create_directories(home);
  ports_file_ = home + "/ports.json";
  std::vector<std::string> argv = {BinDir() + "/loyalty-" + name,   "--kafka.brokers=" + brokers,
                                   "--data_dir=" + home + "/db",    "--grpc.address=127.0.0.1:0",
                                   "--metrics.address=127.0.0.1:0", "--ports_file=" + ports_file_};
  // Every service over mutual TLS with a certificate of its own, as in production; a test's
  // own flags come after, so that it can give other files or --grpc.insecure=true.
  if (PlaintextGrpc()) {
    argv.push_back("--grpc.insecure=true");  // the benchmarks' plaintext baseline
  } else {
    for (auto& flag : TestPki::Get().ServiceFlags(name)) argv.push_back(flag);
  }
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = std::make_unique<ChildProcess>(argv, home + "/log", std::move(extra_env));
}

void ServiceProcess::Start() {
  std::filesystem::remove(ports_file_);
  process_->Start();
  try {
    auto ports = ReadPortsFile(ports_file_);
    grpc_port_ = ports.at("grpc");
    metrics_port_ = ports.at("metrics");
    http_port_ = ports.count("http") ? ports.at("http") : 0;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "\n" + process_->LogTail());
  }
}

void ServiceProcess::Stop() {
  process_->Signal(SIGTERM);
  process_->Wait();
}

}  // namespace loyalty::testing
