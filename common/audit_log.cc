#include "common/audit_log.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <set>

#include "common/field_limits.h"
#include "common/ids.h"

namespace loyalty {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsPersonal(const FieldDescriptor& field) {
  static const std::set<std::string> kNames = {"phone", "email", "contact", "chat_id",
                                               "telegram_chat_id"};
  return field.type() == FieldDescriptor::TYPE_STRING && kNames.count(field.name()) > 0;
}

std::string Masked(const std::string& value) {
  if (value.empty()) return value;
  return "***" + (value.size() > 4 ? value.substr(value.size() - 2) : std::string());
}

}  // namespace

void MaskPersonalData(Message& message) {
  const Reflection* reflection = message.GetReflection();
  const auto* descriptor = message.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (IsPersonal(*field)) {
      if (field->is_repeated()) {
        for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
          reflection->SetRepeatedString(&message, field, j,
                                        Masked(reflection->GetRepeatedString(message, field, j)));
        }
      } else {
        reflection->SetString(&message, field, Masked(reflection->GetString(message, field)));
      }
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE && !field->is_map()) {
      if (field->is_repeated()) {
        for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
          MaskPersonalData(*reflection->MutableRepeatedMessage(&message, field, j));
        }
      } else if (reflection->HasField(message, field)) {
        MaskPersonalData(*reflection->MutableMessage(&message, field));
      }
    }
  }
}

v1::AuditRecord MakeAuditRecord(std::string_view service, std::string_view method,
                                const Principal& principal, const Message* request, int64_t now_ms,
                                std::string detail) {
  v1::AuditRecord record;
  record.set_audit_id(NewId("a", now_ms));
  record.set_at_ms(now_ms);
  record.set_service(std::string(service));
  record.set_principal(principal.value());
  record.set_method(std::string(method));
  if (request != nullptr) {
    std::unique_ptr<Message> masked(request->New());
    masked->CopyFrom(*request);
    MaskPersonalData(*masked);
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(*masked, &json).ok()) json = "{}";
    if (json.size() > kMaxAuditRequestBytes) json = json.substr(0, kMaxAuditRequestBytes) + "…";
    record.set_request_json(std::move(json));
  }
  record.set_detail(std::move(detail));
  return record;
}

void AppendAudit(UnitOfWork& work, const v1::AuditRecord& record) {
  work.Put(kAuditCf, record.audit_id(), record.SerializeAsString());
}

void WriteAudit(Store& store, const v1::AuditRecord& record) {
  store.Commit([&](StagedWrite& write) {
    write.Put(kAuditCf, record.audit_id(), record.SerializeAsString());
  });
}

StatusOr<v1::ListAuditLogResponse> ListAuditLog(const Store& store,
                                                const v1::ListAuditLogRequest& request) {
  auto page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  if (request.page_token().size() > 64) return InvalidArgument("page_token: not a token");
  v1::ListAuditLogResponse response;
  std::string last;
  store.ScanBackward(
      kAuditCf, "", request.page_token(), [&](std::string_view key, std::string_view value) {
        if (response.records_size() == *page_size) {
          response.set_next_page_token(last);
          return false;
        }
        last = std::string(key);
        v1::AuditRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return true;
        }
        if (!request.principal().empty() && record.principal() != request.principal()) {
          return true;
        }
        *response.add_records() = std::move(record);
        return true;
      });
  return response;
}

}  // namespace loyalty
