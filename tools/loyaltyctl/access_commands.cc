// The commands that call loyalty.v1.AccessService (API keys; hosted by accrual at --accrual).
#include <iostream>

#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

using Stub = v1::AccessService::Stub;

std::string Roles(const v1::ApiKey& key) {
  std::string out;
  for (const auto& role : key.roles()) out += (out.empty() ? "" : ",") + role;
  return out;
}

std::string State(const v1::ApiKey& key, int64_t now_ms) {
  if (key.revoked_at_ms() != 0) return "revoked " + IsoUtc(key.revoked_at_ms());
  if (key.expires_at_ms() != 0 && key.expires_at_ms() <= now_ms) {
    return "expired " + IsoUtc(key.expires_at_ms());
  }
  return key.expires_at_ms() == 0 ? "in force" : "in force until " + IsoUtc(key.expires_at_ms());
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void RunApiKeyCreate(Ctl& ctl, const Args& args) {
  v1::CreateApiKeyRequest request;
  request.set_name(args.words()[0]);
  if (!args.Has("roles")) throw UsageError("--roles is required (e.g. --roles=till)");
  for (auto& role : ParseList("--roles", args.Get("roles"))) request.add_roles(std::move(role));
  if (args.Has("expires")) request.set_expires_at_ms(ParseTimeMs("--expires", args.Get("expires")));
  v1::CreateApiKeyResponse response;
  ctl.CallAccess(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.CreateApiKey(c, request, &response); });
  if (ctl.json()) return ctl.PrintJson(response);
  Fields fields;
  fields.Add("key", response.key().key_id())
      .Add("name", response.key().name())
      .Add("principal", "apikey:" + response.key().name())
      .Add("roles", Roles(response.key()))
      .Add("state", State(response.key(), NowMs()))
      .Add("secret", response.secret())
      .Print(std::cout);
  std::cout << "the secret is shown only now: send it as 'authorization: Bearer <secret>'\n";
}

void RunApiKeyList(Ctl& ctl, const Args& args) {
  v1::ListApiKeysRequest request;
  request.set_include_revoked(args.Has("all"));
  v1::ListApiKeysResponse response;
  ctl.CallAccess(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.ListApiKeys(c, request, &response); });
  if (ctl.json()) return ctl.PrintJson(response);
  Table table({{"KEY"}, {"NAME"}, {"ROLES"}, {"CREATED"}, {"BY"}, {"STATE"}});
  const int64_t now = NowMs();
  for (const auto& key : response.keys()) {
    table.AddRow({key.key_id(), key.name(), Roles(key), IsoUtc(key.created_at_ms()),
                  key.created_by(), State(key, now)});
  }
  table.Print(std::cout);
}

void RunApiKeyRevoke(Ctl& ctl, const Args& args) {
  v1::RevokeApiKeyRequest request;
  request.set_key_id(args.words()[0]);
  v1::ApiKey key;
  ctl.CallAccess(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.RevokeApiKey(c, request, &key); });
  if (ctl.json()) return ctl.PrintJson(key);
  Fields fields;
  fields.Add("key", key.key_id())
      .Add("name", key.name())
      .Add("state", State(key, NowMs()))
      .Add("revoked by", key.revoked_by())
      .Print(std::cout);
}

void RunAudit(Ctl& ctl, const Args& args) {
  v1::ListAuditLogRequest request;
  if (args.Has("limit")) {
    request.set_page_size(static_cast<int32_t>(ParseInt("--limit", args.Get("limit"), 1, 1000)));
  }
  request.set_page_token(args.Get("page-token", ""));
  request.set_principal(args.Get("principal", ""));
  v1::ListAuditLogResponse response;
  const std::string address = args.Get("address", ctl.options().accrual_address);
  ctl.CallAudit(address, [&](v1::AuditService::Stub& stub, grpc::ClientContext* c) {
    return stub.ListAuditLog(c, request, &response);
  });
  if (ctl.json()) return ctl.PrintJson(response);
  Table table({{"TIME (UTC)"}, {"PRINCIPAL"}, {"METHOD"}, {"REQUEST"}});
  for (const auto& r : response.records()) {
    std::string what = r.request_json();
    if (!r.detail().empty())
      what += (what.empty() ? "" : " ") + std::string("(") + r.detail() + ")";
    table.AddRow({IsoUtc(r.at_ms()), r.principal(), r.method(), what});
  }
  table.Print(std::cout);
  if (!response.next_page_token().empty()) {
    std::cout << "more: --page-token=" << response.next_page_token() << "\n";
  }
}

}  // namespace loyalty::ctl
