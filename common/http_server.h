// A small HTTP/1.1 server over TLS (OpenSSL) or plain TCP, for the HTTP/JSON door and the
// operators' listener (/metrics and health, common/metrics.h): requests
// with a Content-Length body, keep-alive, a fixed pool of connection threads, and limits on
// everything a client sends (request head 16 KiB, body max_body_bytes, 10 s to send a request,
// 256 connections). What it serves is a function of the request; the client certificate's
// principal (verified by the SSL_CTX it was given) comes with the request. No chunked
// request bodies (411): the unary calls it serves have a known length.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace loyalty {

struct HttpRequest {
  std::string method;                          // "POST"
  std::string path;                            // without the query
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string certificate_principal;  // URI SAN, else DNS SAN, else CN; "" without a cert

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  struct Options {
    size_t max_head_bytes = 16 * 1024;
    size_t max_body_bytes = 1 << 20;
    int threads = 8;
    int max_connections = 256;
    int io_timeout_seconds = 10;
  };

  // ssl_ctx: owned by the caller and outliving the server; nullptr for plain TCP.
  HttpServer(Options options, SSL_CTX* ssl_ctx, Handler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "host:port" or "[v6]:port" (port 0: any free one) and starts serving.
  Status Start(const std::string& address);
  int port() const { return port_; }
  // Stops accepting, ends open connections and joins the threads.
  void Stop();

 private:
  void AcceptLoop();
  void WorkerLoop();
  void Serve(int fd);

  const Options options_;
  SSL_CTX* const ssl_ctx_;
  const Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<int> queue_;  // accepted, not yet served; guarded by mu_
  std::set<int> open_;     // being served; guarded by mu_
};

// The principal a verified peer certificate names: its first URI SAN (a SPIFFE id), else its
// first DNS SAN, else its subject CN, as the gRPC side reads it.
std::string CertificatePrincipalOf(X509* certificate);

}  // namespace loyalty
