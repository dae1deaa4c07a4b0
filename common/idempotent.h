// Idempotent calls, as every core makes them. Each mutating call carries an idempotency key;
// the core keeps, per method and key, the request and its first response (a Record message
// with request and response fields, in the core's "idempotency" column family). A retry with
// the same request gets that response once the first call is durable; another request under
// the same key is ALREADY_EXISTS. Refusals are not remembered: a retried refusal is judged
// again. Records are kept for a retention period (SweepIdempotencyRecords): a retry later than
// that is a new call.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/key_codec.h"
#include "common/principal.h"
#include "common/retention.h"
#include "common/status.h"
#include "common/store.h"

namespace loyalty {

inline constexpr char kIdempotencyColumnFamily[] = "idempotency";

inline Status CheckIdempotencyKey(const std::string& key) {
  if (key.empty()) return InvalidArgument("idempotency_key: required");
  if (key.size() > 256) return InvalidArgument("idempotency_key: longer than 256 characters");
  return Status::Ok();
}

// Where the record of (method, key, principal) is kept: a key is the caller's own, so the
// same key from another principal is another call and never sees the first one's answer. On
// a port without TLS every caller is "anonymous", whose records keep the (method, key) form
// they had before principals existed; so do a core's calls that name no principal (empty).
inline std::string IdempotencyRecordKey(const char* method, const Principal& principal,
                                        const std::string& key) {
  std::string out;
  keys::AppendString(out, method);
  keys::AppendString(out, key);
  if (!principal.value().empty() && principal.value() != kAnonymousPrincipal) {
    keys::AppendString(out, principal.value());
  }
  return out;
}

// What RunIdempotent decided: the answer and, unless there is nothing to wait for (a
// refusal: ticket 0), the ticket of the group that makes it durable. txn holds what apply
// staged (empty for a retry).
template <typename Response, typename Txn>
struct IdempotentOutcome {
  StatusOr<Response> result;
  uint64_t ticket = 0;
  Txn txn;
};

// Under mu: the remembered response of a retry, or apply(txn) staged by stage(txn) together
// with its record. Never waits for the disk; the caller answers once ticket is durable.
template <typename Record, typename Response, typename Txn, typename Request>
IdempotentOutcome<Response, Txn> RunIdempotent(Store& store, std::mutex& mu, int64_t now_ms,
                                               const char* method, const Principal& principal,
                                               const Request& request, const std::string& key,
                                               const std::function<StatusOr<Response>(Txn&)>& apply,
                                               const std::function<uint64_t(Txn&)>& stage) {
  IdempotentOutcome<Response, Txn> outcome{Status::Ok(), 0, Txn()};
  if (Status s = CheckIdempotencyKey(key); !s.ok()) {
    outcome.result = s;
    return outcome;
  }
  std::string record_key = IdempotencyRecordKey(method, principal, key);
  std::string request_bytes = request.SerializeAsString();
  std::lock_guard lock(mu);
  std::string stored;
  if (store.Get(kIdempotencyColumnFamily, record_key, &stored)) {
    Record record;
    record.ParseFromString(stored);
    if (record.request() != request_bytes) {
      outcome.result =
          AlreadyExists("idempotency_key: '" + key + "' was already used with other arguments");
      return outcome;
    }
    Response response;
    response.ParseFromString(record.response());
    outcome.result = std::move(response);
    outcome.ticket = store.Stage([](StagedWrite&) {});  // the first call's group, or later
    return outcome;
  }
  outcome.txn.principal = principal.value();
  outcome.result = apply(outcome.txn);
  if (!outcome.result.ok()) return outcome;
  Record record;
  record.set_request(request_bytes);
  record.set_response(outcome.result->SerializeAsString());
  record.set_created_at_ms(now_ms);
  outcome.txn.Put(kIdempotencyColumnFamily, std::move(record_key), record.SerializeAsString(),
                  /*visible=*/true);
  outcome.ticket = stage(outcome.txn);
  return outcome;
}

// Deletes the records made more than retention_ms before now_ms (common/retention.h).
template <typename Record>
int64_t SweepIdempotencyRecords(Store& store, int64_t now_ms, int64_t retention_ms) {
  return SweepByAge(
      store, kIdempotencyColumnFamily, now_ms, retention_ms,
      [](std::string_view value) -> std::optional<int64_t> {
        Record record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return 0;
        if (record.created_at_ms() == 0) return std::nullopt;
        return record.created_at_ms();
      },
      [](std::string_view value, int64_t now) {
        Record record;
        record.ParseFromArray(value.data(), static_cast<int>(value.size()));
        record.set_created_at_ms(now);
        return record.SerializeAsString();
      });
}

}  // namespace loyalty
