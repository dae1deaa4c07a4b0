#include "services/notification/grpc_service.h"

#include "common/auth/authorizer.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"

namespace loyalty::notification {
grpc::Status NotificationGrpcService::SetPreferences(grpc::ServerContext* context,
                                                     const v1::SetPreferencesRequest* request,
                                                     v1::Preferences* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.SetPreferences(auth::PrincipalOf(*context), *request), response);
}

grpc::Status NotificationGrpcService::GetPreferences(grpc::ServerContext*,
                                                     const v1::GetPreferencesRequest* request,
                                                     v1::Preferences* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetPreferences(request->member_id()), response);
}

grpc::Status NotificationGrpcService::ListNotifications(grpc::ServerContext*,
                                                        const v1::ListNotificationsRequest* request,
                                                        v1::ListNotificationsResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ListNotifications(*request), response);
}

grpc::Status NotificationGrpcService::SetTemplate(grpc::ServerContext* context,
                                                  const v1::SetTemplateRequest* request,
                                                  v1::Template* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.SetTemplate(auth::PrincipalOf(*context), *request), response);
}

grpc::Status NotificationGrpcService::GetTemplate(grpc::ServerContext*,
                                                  const v1::GetTemplateRequest* request,
                                                  v1::Template* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetTemplate(*request), response);
}

grpc::Status NotificationGrpcService::CreateTelegramLinkCode(
    grpc::ServerContext* context, const v1::CreateTelegramLinkCodeRequest* request,
    v1::TelegramLinkCode* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.CreateTelegramLinkCode(auth::PrincipalOf(*context), *request), response);
}

}  // namespace loyalty::notification
