// The real thing for redemption's integration tests and benchmark: the dev broker,
// loyalty-accrual and loyalty-redemption as child processes, a gRPC stub of each, and members
// who earned their points through purchases published to Kafka.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {

class RedemptionCluster {
 public:
  explicit RedemptionCluster(std::vector<std::string> redemption_flags = {})
      : kafka_(dir_.Sub("kafka")), accrual_("accrual", dir_.path(), kafka_.bootstrap()) {
    accrual_.Start();
    accrual_client_ = std::make_unique<AccrualClient>(accrual_.grpc_address());
    redemption_flags.push_back("--accrual.address=" + accrual_.grpc_address());
    redemption_flags.push_back("--redemption.resume_interval_ms=200");
    redemption_ = std::make_unique<ServiceProcess>("redemption", dir_.path(), kafka_.bootstrap(),
                                                   redemption_flags);
    StartRedemption();
  }

  void StartRedemption() {
    redemption_->Start();
    stub_ = v1::RedemptionService::NewStub(
        grpc::CreateChannel(redemption_->grpc_address(), TestChannelCredentials()));
  }

  // Enrolls each member and publishes one purchase per member to loyalty.purchases.v1 that
  // earns them at least `points` (Bronze earns 1%: one point per 100 minor units), then waits
  // until they are available. Tests compare balances with what they were after this.
  void EarnByPurchase(const std::vector<std::string>& members, int64_t points) {
    auto producer = KafkaProducer::Create({kafka_.bootstrap()});
    if (!producer.ok()) throw std::runtime_error(producer.status().ToString());
    int n = 0;
    for (const auto& id : members) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "+38067%07d", next_phone_++);
      grpc::Status s = accrual_client_->Enroll(id, phone);
      if (!s.ok()) throw std::runtime_error("enroll " + id + ": " + s.error_message());
      v1::PurchaseEvent p;
      p.set_purchase_id("p-" + id + "-" + std::to_string(n++));
      p.set_member_id(id);
      p.set_store_id("kyiv-01");
      p.set_amount_minor(points * 100);
      p.set_currency("UAH");
      (*producer)->Produce("loyalty.purchases.v1", id, p.SerializeAsString());
    }
    (*producer)->Flush(30'000);
    for (const auto& id : members) {
      bool earned = Eventually([&] {
        v1::Balance b;
        return accrual_client_->Balance(id, &b).ok() && b.available() >= points;
      });
      if (!earned) throw std::runtime_error("no points for " + id);
    }
  }

  v1::Balance Balance(const std::string& id) {
    v1::Balance b;
    grpc::Status s = accrual_client_->Balance(id, &b);
    if (!s.ok()) throw std::runtime_error("balance " + id + ": " + s.error_message());
    return b;
  }

  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (v1::RedemptionService::Stub::*method)(grpc::ClientContext*,
                                                                        const Request&, Response*),
                    const Request& request, Response* response,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    return (stub_.get()->*method)(&context, request, response);
  }

  v1::Reward CreateGiftCard(const std::string& id, int64_t price, int64_t stock) {
    v1::CreateRewardRequest request;
    auto* r = request.mutable_reward();
    r->set_reward_id(id);
    r->set_name("Gift card " + id);
    r->set_kind(v1::REWARD_KIND_GIFT_CARD);
    r->mutable_gift_card()->set_value_minor(50'000);
    r->set_points_price(price);
    r->set_stock_total(stock);
    r->set_unlimited_stock(stock < 0);
    r->set_active(true);
    request.set_idempotency_key("create-" + id);
    v1::Reward out;
    grpc::Status s = Call(&v1::RedemptionService::Stub::CreateReward, request, &out);
    if (!s.ok()) throw std::runtime_error("create reward: " + s.error_message());
    return out;
  }

  grpc::Status Redeem(const std::string& member, const std::string& reward, int64_t quantity,
                      const std::string& key, v1::Redemption* out) {
    v1::RedeemRequest request;
    request.set_member_id(member);
    request.set_reward_id(reward);
    request.set_quantity(quantity);
    request.set_idempotency_key(key);
    return Call(&v1::RedemptionService::Stub::Redeem, request, out);
  }

  std::vector<v1::Redemption> Redemptions(const std::string& member) {
    v1::ListRedemptionsRequest request;
    request.set_member_id(member);
    v1::ListRedemptionsResponse response;
    grpc::Status s = Call(&v1::RedemptionService::Stub::ListRedemptions, request, &response);
    if (!s.ok()) throw std::runtime_error("list: " + s.error_message());
    return {response.redemptions().begin(), response.redemptions().end()};
  }

  ServiceProcess& accrual() { return accrual_; }
  ServiceProcess& redemption() { return *redemption_; }
  DevKafka& kafka() { return kafka_; }
  AccrualClient& accrual_client() { return *accrual_client_; }

 private:
  TempDir dir_;
  DevKafka kafka_;
  ServiceProcess accrual_;
  std::unique_ptr<AccrualClient> accrual_client_;
  std::unique_ptr<ServiceProcess> redemption_;
  std::unique_ptr<v1::RedemptionService::Stub> stub_;
  int next_phone_ = 0;
};

}  // namespace loyalty::testing
