// gRPC adapter of the notification core: translates requests and maps Status to gRPC.
#pragma once

#include "loyalty/v1/notification.grpc.pb.h"
#include "services/notification/core/notification_core.h"

namespace loyalty::notification {

class NotificationGrpcService final : public v1::NotificationService::Service {
 public:
  explicit NotificationGrpcService(NotificationCore& core) : core_(core) {}

  grpc::Status SetPreferences(grpc::ServerContext*, const v1::SetPreferencesRequest* request,
                              v1::Preferences* response) override;
  grpc::Status GetPreferences(grpc::ServerContext*, const v1::GetPreferencesRequest* request,
                              v1::Preferences* response) override;
  grpc::Status ListNotifications(grpc::ServerContext*, const v1::ListNotificationsRequest* request,
                                 v1::ListNotificationsResponse* response) override;
  grpc::Status SetTemplate(grpc::ServerContext*, const v1::SetTemplateRequest* request,
                           v1::Template* response) override;
  grpc::Status GetTemplate(grpc::ServerContext*, const v1::GetTemplateRequest* request,
                           v1::Template* response) override;
  grpc::Status CreateTelegramLinkCode(grpc::ServerContext*,
                                      const v1::CreateTelegramLinkCodeRequest* request,
                                      v1::TelegramLinkCode* response) override;

 private:
  NotificationCore& core_;
};

}  // namespace loyalty::notification
