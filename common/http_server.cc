#include "common/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/log.h"

namespace loyalty {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status < 500 ? "Client Error" : "Server Error";
  }
}

// One connection's bytes, through TLS or not.
class Connection {
 public:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Connection() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  // Up to n bytes; 0 on end or error.
  size_t Read(char* buf, size_t n) {
    if (ssl_ != nullptr) {
      int got = SSL_read(ssl_, buf, static_cast<int>(n));
      return got > 0 ? static_cast<size_t>(got) : 0;
    }
    ssize_t got = ::recv(fd_, buf, n, 0);
    return got > 0 ? static_cast<size_t>(got) : 0;
  }
  bool Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      if (ssl_ != nullptr) {
        int put = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
        if (put <= 0) return false;
        done += static_cast<size_t>(put);
      } else {
        ssize_t put = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (put <= 0) return false;
        done += static_cast<size_t>(put);
      }
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_;
};

bool SendResponse(Connection& c, const HttpResponse& r, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + Reason(r.status) +
                     "\r\nContent-Type: " + r.content_type +
                     "\r\nContent-Length: " + std::to_string(r.body.size()) +
                     (keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  return c.Write(head + r.body);
}

HttpResponse Refusal(int status, const std::string& message) {
  return {
      status, "application/json",
      "{\"code\":\"" +
          std::string(status == 413 || status == 431 ? "resource_exhausted" : "invalid_argument") +
          "\",\"message\":\"" + message + "\"}"};
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string CertificatePrincipalOf(X509* cert) {
  if (cert == nullptr) return "";
  std::string uri, dns;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI && name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* text =
          name->type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.dNSName;
      std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                        static_cast<size_t>(ASN1_STRING_length(text)));
      if (name->type == GEN_URI && uri.empty()) uri = value;
      if (name->type == GEN_DNS && dns.empty()) dns = value;
    }
    GENERAL_NAMES_free(names);
  }
  if (!uri.empty()) return uri;
  if (!dns.empty()) return dns;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
    return cn;
  }
  return "";
}

HttpServer::HttpServer(Options options, SSL_CTX* ssl_ctx, Handler handler)
    : options_(options), ssl_ctx_(ssl_ctx), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("not host:port: " + address);
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), ::isdigit) || std::stoi(port_text) > 65535) {
    return InvalidArgument("not a port: " + address);
  }
  const auto port = static_cast<uint16_t>(std::stoi(port_text));
  sockaddr_storage storage{};
  socklen_t storage_size = 0;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {  // "[::1]:9464"
    auto* addr6 = reinterpret_cast<sockaddr_in6*>(&storage);
    addr6->sin6_family = AF_INET6;
    addr6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &addr6->sin6_addr) != 1) {
      return InvalidArgument("not an IPv6 address: " + host);
    }
    storage_size = sizeof(sockaddr_in6);
  } else {
    auto* addr4 = reinterpret_cast<sockaddr_in*>(&storage);
    addr4->sin_family = AF_INET;
    addr4->sin_port = htons(port);
    if (host.empty() || host == "0.0.0.0") {
      addr4->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (host == "localhost") {
      addr4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host.c_str(), &addr4->sin_addr) != 1) {
      return InvalidArgument("not an IPv4 address (or [IPv6]): " + host);
    }
    storage_size = sizeof(sockaddr_in);
  }
  listen_fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&storage), storage_size) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    std::string error = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Internal("cannot listen on " + address + ": " + error);
  }
  socklen_t length = sizeof storage;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&storage), &length);
  port_ = ntohs(storage.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  {
    std::lock_guard lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // their reads end at once
  }
  ready_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
  for (int fd : queue_) ::close(fd);
  queue_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    timeval timeout{options_.io_timeout_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::lock_guard lock(mu_);
    if (static_cast<int>(queue_.size() + open_.size()) >= options_.max_connections) {
      ::close(fd);  // over the limit: the client retries on another connection later
      continue;
    }
    queue_.push_back(fd);
    ready_.notify_one();
  }
}

void HttpServer::WorkerLoop() {
  for (;;) {
    int fd;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      fd = queue_.front();
      queue_.pop_front();
      open_.insert(fd);
    }
    Serve(fd);
    {
      std::lock_guard lock(mu_);
      open_.erase(fd);
    }
    ::close(fd);
  }
}

void HttpServer::Serve(int fd) {
  SSL* ssl = nullptr;
  std::string principal;
  if (ssl_ctx_ != nullptr) {
    ssl = SSL_new(ssl_ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {  // a refused certificate ends here
      ERR_clear_error();
      SSL_free(ssl);
      return;
    }
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK) {
      principal = CertificatePrincipalOf(peer);
    }
    X509_free(peer);
  }
  Connection c(fd, ssl);
  std::string buffer;
  char chunk[16 * 1024];
  while (!stopping_) {
    // The head: up to the blank line, within max_head_bytes.
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > options_.max_head_bytes) {
        SendResponse(c, Refusal(431, "request head over 16 KiB"), false);
        return;
      }
      size_t got = c.Read(chunk, sizeof chunk);
      if (got == 0) return;  // closed, timed out, or stopping
      buffer.append(chunk, got);
    }
    if (end > options_.max_head_bytes) {
      SendResponse(c, Refusal(431, "request head over 16 KiB"), false);
      return;
    }
    HttpRequest request;
    request.certificate_principal = principal;
    std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) {
      SendResponse(c, Refusal(400, "not an HTTP request line"), false);
      return;
    }
    request.method = line.substr(0, sp1);
    request.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    request.path = request.path.substr(0, request.path.find('?'));
    const std::string version = line.substr(sp2 + 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string header = head.substr(pos, next - pos);
      size_t colon = header.find(':');
      if (colon != std::string::npos) {
        request.headers[Lower(Trim(header.substr(0, colon)))] = Trim(header.substr(colon + 1));
      }
      pos = next + 2;
    }
    bool keep_alive = version == "HTTP/1.1" && Lower(request.Header("connection")) != "close";
    if (!request.Header("transfer-encoding").empty()) {
      SendResponse(c, Refusal(411, "send the body with a Content-Length"), false);
      return;
    }
    const std::string length_text = request.Header("content-length");
    size_t length = 0;
    if (!length_text.empty()) {
      if (!std::all_of(length_text.begin(), length_text.end(), ::isdigit) ||
          length_text.size() > 12) {
        SendResponse(c, Refusal(400, "Content-Length is not a number"), false);
        return;
      }
      length = std::stoull(length_text);
    }
    if (length > options_.max_body_bytes) {
      SendResponse(c,
                   Refusal(413, "body: " + length_text + " bytes, at most " +
                                    std::to_string(options_.max_body_bytes)),
                   false);
      return;
    }
    while (buffer.size() < length) {
      size_t got = c.Read(chunk, sizeof chunk);
      if (got == 0) return;
      buffer.append(chunk, got);
    }
    request.body = buffer.substr(0, length);
    buffer.erase(0, length);
    HttpResponse response = handler_(request);
    if (!SendResponse(c, response, keep_alive) || !keep_alive) return;
  }
}

}  // namespace loyalty
