// The monitoring in deploy/ checked against the real thing: promtool validates the Prometheus
// config and runs every alert's unit tests; then a real Prometheus scrapes real
// loyalty-accrual, -referral, -redemption and -notification processes (on the dev broker, with
// a local webhook receiver) under a small demo load, loads the real alert rules, and every
// panel query of every dashboard must return data. A panel whose query names a metric that
// does not exist, or filters on a label value that never occurs, fails here instead of showing
// "No data" in Grafana.
#include <arpa/inet.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/notification.grpc.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"
#include "loyalty/v1/referral.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Struct;
using google::protobuf::Value;

const std::string kSource = LOYALTY_SOURCE_DIR;
const std::string kDeploy = kSource + "/deploy";
// notification's own test receiver: answers /hook/* with 200 and /status/<code>/* with code.
const std::string kHttpSink = kSource + "/tests/integration/notification/http_sink.py";
const char* kWebhookSecret = "observability-secret";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Struct ParseJson(const std::string& text) {
  Struct s;
  auto status = google::protobuf::util::JsonStringToMessage(text, &s);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text.substr(0, 500);
  return s;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return done();
}

// Grafana's interval variables as a short demo run needs them: windows long enough for
// two or more 1s scrapes, short enough that the data of the last minute is in them.
std::string SubstituteGrafanaVariables(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "30s");
  expr = std::regex_replace(expr, std::regex(R"(\$__range)"), "10m");
  expr = std::regex_replace(expr, std::regex(R"(\$__interval)"), "5s");
  return expr;
}

struct PanelQuery {
  std::string dashboard;
  std::string panel;
  std::string expr;
};

void CollectQueries(const std::string& dashboard, const Value& panels,
                    std::vector<PanelQuery>* out) {
  for (const auto& p : panels.list_value().values()) {
    const auto& fields = p.struct_value().fields();
    if (fields.count("panels")) CollectQueries(dashboard, fields.at("panels"), out);
    if (!fields.count("targets")) continue;
    for (const auto& t : fields.at("targets").list_value().values()) {
      out->push_back({dashboard, fields.at("title").string_value(),
                      t.struct_value().fields().at("expr").string_value()});
    }
  }
}

class ObservabilityTest : public ::testing::Test {
 protected:
  // The answer of Prometheus's HTTP API for path, parsed; empty Struct if unreachable.
  Struct Api(const std::string& path) {
    try {
      return ParseJson(HttpGet(prometheus_port_, path));
    } catch (const std::exception&) {
      return Struct();
    }
  }

  // Number of series (or samples) in the result of an instant query; -1 on an error.
  int QueryResultSize(const std::string& expr, std::string* error) {
    Struct r = Api("/api/v1/query?query=" + UrlEncode(expr));
    const auto& f = r.fields();
    if (!f.count("status") || f.at("status").string_value() != "success") {
      *error = f.count("error") ? f.at("error").string_value() : "no answer";
      return -1;
    }
    const auto& data = f.at("data").struct_value().fields();
    if (data.at("resultType").string_value() == "scalar") return 1;
    return data.at("result").list_value().values_size();
  }

  // jobs: job name -> metrics ports of its instances.
  void StartPrometheus(const std::vector<std::pair<std::string, std::vector<int>>>& jobs) {
    prometheus_port_ = FreePort();
    std::string config = dir_.Sub("prometheus.yml");
    std::ofstream out(config);
    out << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "rule_files:\n  - " << kDeploy << "/prometheus/rules/*.yml\n"
        << "scrape_configs:\n";
    for (const auto& [job, ports] : jobs) {
      out << "  - job_name: " << job << "\n    static_configs:\n      - targets: [";
      for (size_t i = 0; i < ports.size(); ++i) {
        out << (i ? ", " : "") << "\"127.0.0.1:" << ports[i] << "\"";
      }
      out << "]\n";
    }
    out.close();
    // ChildProcess execs without a PATH search.
    std::string binary = RunShell("command -v prometheus");
    while (!binary.empty() && std::isspace(static_cast<unsigned char>(binary.back()))) {
      binary.pop_back();
    }
    ASSERT_FALSE(binary.empty()) << "prometheus is not installed (scripts/install-deps.sh)";
    prometheus_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            binary, "--config.file=" + config, "--storage.tsdb.path=" + dir_.Sub("tsdb"),
            "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
            // Lookback as short as the test's windows: a series gone stale drops out fast.
            "--query.lookback-delta=1m"},
        dir_.Sub("prometheus.log"));
    prometheus_->Start();
    ASSERT_TRUE(Eventually(
        [&] {
          try {
            return HttpGet(prometheus_port_, "/-/ready").find("Ready") != std::string::npos;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(60)))
        << prometheus_->LogTail();
  }

  TempDir dir_;
  int prometheus_port_ = 0;
  std::unique_ptr<ChildProcess> prometheus_;
};

TEST_F(ObservabilityTest, PromtoolAcceptsTheConfigAndEveryAlertTestPasses) {
  int code = -1;
  std::string out =
      RunShell("promtool check config " + kDeploy + "/prometheus/prometheus.yml 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  out =
      RunShell("cd " + kDeploy + "/prometheus && promtool test rules tests/*.test.yml 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("FAILED"), std::string::npos) << out;
  // Every alert has a test in which it fires (the file list is the rules directory's).
  std::set<std::string> alerts;
  std::regex alert_re(R"(- alert: (\w+))");
  std::string tests;
  for (const auto& e : fs::directory_iterator(kDeploy + "/prometheus/tests")) {
    tests += ReadAll(e.path().string());
  }
  for (const auto& e : fs::directory_iterator(kDeploy + "/prometheus/rules")) {
    std::string rules = ReadAll(e.path().string());
    for (std::sregex_iterator it(rules.begin(), rules.end(), alert_re), end; it != end; ++it) {
      alerts.insert((*it)[1]);
    }
  }
  EXPECT_GE(alerts.size(), 20u);
  for (const auto& a : alerts) {
    // "alertname: X" followed by a non-empty exp_alerts list.
    std::regex fires("alertname: " + a + R"(\s*\n\s*exp_alerts:\s*\n\s*- exp_labels)");
    EXPECT_TRUE(std::regex_search(tests, fires)) << a << " has no test in which it fires";
  }
}

TEST_F(ObservabilityTest, EveryDashboardPanelHasDataUnderADemoLoad) {
  DevKafka kafka(dir_.Sub("kafka"));
  ChildProcess sink(
      {"/usr/bin/python3", kHttpSink, dir_.Sub("http.log"), dir_.Sub("http.port"), kWebhookSecret},
      dir_.Sub("http_sink.log"));
  sink.Start();
  ServiceProcess accrual("accrual", dir_.path(), kafka.bootstrap());
  accrual.Start();
  ServiceProcess referral("referral", dir_.path(), kafka.bootstrap(),
                          {"--accrual.address=" + accrual.grpc_address()});
  referral.Start();
  ServiceProcess redemption("redemption", dir_.path(), kafka.bootstrap(),
                            {"--accrual.address=" + accrual.grpc_address()});
  redemption.Start();
  // A second redemption instance whose accrual is unreachable: its saga stays pending and is
  // retried, which is what the "sagas pending" and "saga steps retried" panels are for.
  ServiceProcess redemption_outage(
      "redemption", dir_.Sub("outage"), kafka.bootstrap(),
      {"--accrual.address=127.0.0.1:1", "--redemption.resume_interval_ms=500"});
  redemption_outage.Start();
  // Fast retries so that the failing webhook is given up within the test.
  ServiceProcess notification(
      "notification", dir_.path(), kafka.bootstrap(),
      {"--accrual.address=" + accrual.grpc_address(),
       "--channels.webhook.secret=" + std::string(kWebhookSecret),
       "--channels.webhook.timeout_ms=2000", "--notification.max_attempts=2",
       "--notification.backoff_base_ms=100", "--notification.backoff_max_ms=200",
       "--notification.breaker_failures=100"});
  notification.Start();
  StartPrometheus(
      {{"loyalty-accrual", {accrual.metrics_port()}},
       {"loyalty-referral", {referral.metrics_port()}},
       {"loyalty-redemption", {redemption.metrics_port(), redemption_outage.metrics_port()}},
       {"loyalty-notification", {notification.metrics_port()}}});
  if (HasFatalFailure()) return;
  int sink_port = std::stoi(WaitForFile(dir_.Sub("http.port")));

  auto accrual_stub = v1::AccrualService::NewStub(
      grpc::CreateChannel(accrual.grpc_address(), TestChannelCredentials()));
  auto referral_stub = v1::ReferralService::NewStub(
      grpc::CreateChannel(referral.grpc_address(), TestChannelCredentials()));
  auto redemption_stub = v1::RedemptionService::NewStub(
      grpc::CreateChannel(redemption.grpc_address(), TestChannelCredentials()));
  auto outage_stub = v1::RedemptionService::NewStub(
      grpc::CreateChannel(redemption_outage.grpc_address(), TestChannelCredentials()));
  auto notification_stub = v1::NotificationService::NewStub(
      grpc::CreateChannel(notification.grpc_address(), TestChannelCredentials()));
  auto rpc = [](auto call) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return call(&context);
  };

  // Notification preferences before the members exist, so that their welcome messages go out:
  // m1's webhook answers 200 (delivered), m2's answers 503 (retried, then given up).
  for (const auto& [member, path] : std::vector<std::pair<std::string, std::string>>{
           {"m1", "/hook/m1"}, {"m2", "/status/503/m2"}}) {
    v1::SetPreferencesRequest r;
    r.mutable_preferences()->set_member_id(member);
    r.mutable_preferences()->set_webhook_url("http://127.0.0.1:" + std::to_string(sink_port) +
                                             path);
    r.mutable_preferences()->add_channels("webhook");
    r.set_idempotency_key("prefs-" + member);
    v1::Preferences out;
    grpc::Status s = rpc([&](auto* c) { return notification_stub->SetPreferences(c, r, &out); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Members: five shoppers, a referrer and two invitees.
  std::vector<std::string> members = {"m1", "m2", "m3", "m4", "m5", "ref", "inv1", "inv2"};
  for (size_t i = 0; i < members.size(); ++i) {
    v1::EnrollMemberRequest r;
    r.set_member_id(members[i]);
    r.set_phone("+38067000000" + std::to_string(i));
    r.set_idempotency_key("enroll-" + members[i]);
    v1::Member m;
    grpc::Status s = rpc([&](auto* c) { return accrual_stub->EnrollMember(c, r, &m); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // A campaign award, then a hold captured from it (redeemed points).
  {
    v1::AwardPointsRequest award;
    award.set_member_id("m1");
    award.set_points(1000);
    award.set_reason("spring campaign");
    award.set_source("campaign");
    award.set_idempotency_key("award-m1");
    v1::LedgerEntry entry;
    grpc::Status s = rpc([&](auto* c) { return accrual_stub->AwardPoints(c, award, &entry); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::HoldPointsRequest hold;
    hold.set_member_id("m1");
    hold.set_points(300);
    hold.set_reference("reward-1");
    hold.set_idempotency_key("hold-m1");
    v1::Hold h;
    s = rpc([&](auto* c) { return accrual_stub->HoldPoints(c, hold, &h); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::CaptureHoldRequest capture;
    capture.set_hold_id(h.hold_id());
    capture.set_idempotency_key("capture-m1");
    s = rpc([&](auto* c) { return accrual_stub->CaptureHold(c, capture, &h); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Redemption: a discount reward redeemed by m1 (voucher issued, then used at a till), a
  // checkout paid partly with points, and the same reward redeemed on the instance that cannot
  // reach accrual (its saga stays pending).
  {
    v1::CreateRewardRequest create;
    v1::Reward& reward = *create.mutable_reward();
    reward.set_reward_id("coffee-discount");
    reward.set_name("50 UAH off coffee");
    reward.set_kind(v1::REWARD_KIND_DISCOUNT);
    reward.mutable_discount()->set_amount_minor(5000);
    reward.set_currency("UAH");
    reward.set_points_price(100);
    reward.set_unlimited_stock(true);
    reward.set_active(true);
    create.set_idempotency_key("create-coffee");
    for (auto* stub : {redemption_stub.get(), outage_stub.get()}) {
      v1::Reward out;
      grpc::Status s = rpc([&](auto* c) { return stub->CreateReward(c, create, &out); });
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    v1::RedeemRequest redeem;
    redeem.set_member_id("m1");
    redeem.set_reward_id("coffee-discount");
    redeem.set_idempotency_key("redeem-m1");
    v1::Redemption r;
    grpc::Status s = rpc([&](auto* c) { return redemption_stub->Redeem(c, redeem, &r); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(r.state(), v1::REDEMPTION_STATE_COMPLETED) << r.DebugString();
    ASSERT_GT(r.vouchers_size(), 0) << r.DebugString();
    v1::UseVoucherRequest use;
    use.set_code(r.vouchers(0).code());
    use.set_store_id("kyiv-01");
    use.set_idempotency_key("use-m1");
    v1::Voucher voucher;
    s = rpc([&](auto* c) { return redemption_stub->UseVoucher(c, use, &voucher); });
    ASSERT_TRUE(s.ok()) << s.error_message();

    v1::StartCheckoutRequest start;
    start.set_member_id("m1");
    start.set_basket_amount_minor(100000);
    start.set_points(100);
    start.set_reference("order-1");
    start.set_idempotency_key("checkout-m1");
    v1::Checkout checkout;
    s = rpc([&](auto* c) { return redemption_stub->StartCheckout(c, start, &checkout); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::CompleteCheckoutRequest complete;
    complete.set_checkout_id(checkout.checkout_id());
    complete.set_idempotency_key("complete-m1");
    s = rpc([&](auto* c) { return redemption_stub->CompleteCheckout(c, complete, &checkout); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(checkout.state(), v1::CHECKOUT_STATE_COMPLETED) << checkout.DebugString();

    redeem.set_idempotency_key("redeem-m1-outage");
    s = rpc([&](auto* c) { return outage_stub->Redeem(c, redeem, &r); });
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }
  // A client error on each service (the "non-OK answers" panels).
  {
    v1::GetRewardRequest gr;
    gr.set_reward_id("no-such-reward");
    v1::Reward reward;
    EXPECT_EQ(rpc([&](auto* c) { return redemption_stub->GetReward(c, gr, &reward); }).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::GetPreferencesRequest gp;
    gp.set_member_id("");
    v1::Preferences prefs;
    EXPECT_FALSE(
        rpc([&](auto* c) { return notification_stub->GetPreferences(c, gp, &prefs); }).ok());
    v1::GetBalanceRequest r;
    r.set_member_id("nobody");
    v1::GetBalanceResponse b;
    EXPECT_EQ(rpc([&](auto* c) { return accrual_stub->GetBalance(c, r, &b); }).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::GetReferralRequest g;
    g.set_referral_id("no-such-referral");
    v1::Referral out;
    EXPECT_FALSE(rpc([&](auto* c) { return referral_stub->GetReferral(c, g, &out); }).ok());
  }
  // Referrals: the referrer tries its own code (rejected: self_referral), two invitees apply.
  auto code_of = [&](const std::string& member) {
    v1::GetReferralCodeRequest r;
    r.set_member_id(member);
    v1::ReferralCode code;
    grpc::Status s = rpc([&](auto* c) { return referral_stub->GetReferralCode(c, r, &code); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    return code.code();
  };
  std::string ref_code = code_of("ref");
  for (const std::string invitee : {"ref", "inv1", "inv2"}) {
    v1::ApplyReferralRequest r;
    r.set_invitee_id(invitee);
    r.set_code(ref_code);
    r.set_idempotency_key("apply-" + invitee);
    v1::Referral out;
    rpc([&](auto* c) { return referral_stub->ApplyReferral(c, r, &out); });
  }

  // Purchases over Kafka, as a till would publish them.
  auto producer = KafkaProducer::Create({kafka.bootstrap()});
  ASSERT_TRUE(producer.ok()) << producer.status().message();
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto purchase = [&](const std::string& id, const std::string& member, const std::string& store,
                      int64_t amount) {
    v1::PurchaseEvent p;
    p.set_purchase_id(id);
    p.set_member_id(member);
    p.set_store_id(store);
    p.set_amount_minor(amount);
    p.set_currency("UAH");
    p.set_occurred_at_ms(now_ms);
    ASSERT_TRUE(
        (*producer)
            ->Produce("loyalty.purchases.v1", member.empty() ? id : member, p.SerializeAsString())
            .ok());
  };
  purchase("p-ref", "ref", "kyiv-01", 50000);
  for (int i = 1; i <= 5; ++i) {
    purchase("p-m" + std::to_string(i), "m" + std::to_string(i), "kyiv-02", 10000 * i);
    purchase("p-m" + std::to_string(i) + "-again", "m" + std::to_string(i), "kyiv-02", 5000);
  }
  purchase("p-guest-1", "", "kyiv-02", 20000);
  purchase("p-guest-2", "", "lviv-01", 7000);
  ASSERT_TRUE((*producer)->Flush(10'000));
  // The invitees buy once the referrer's purchase is known to referral: inv1 in the
  // referrer's store (held: same_store), inv2 elsewhere (qualifies, both bonuses paid).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  purchase("p-inv1", "inv1", "kyiv-01", 30000);
  purchase("p-inv2", "inv2", "odesa-01", 30000);
  v1::RefundEvent refund;
  refund.set_refund_id("r-m2");
  refund.set_purchase_id("p-m2");
  refund.set_member_id("m2");
  refund.set_amount_minor(10000);
  refund.set_occurred_at_ms(now_ms);
  ASSERT_TRUE((*producer)->Produce("loyalty.refunds.v1", "m2", refund.SerializeAsString()).ok());
  // Not a PurchaseEvent: dead-lettered to loyalty.purchases.v1.dlq. Not a LoyaltyEvent either:
  // notification (and referral) dead-letter it to loyalty.events.v1.dlq through the outbox.
  ASSERT_TRUE((*producer)->Produce("loyalty.purchases.v1", "m3", "\xff garbage \x01").ok());
  ASSERT_TRUE((*producer)->Produce("loyalty.events.v1", "m3", "\xff garbage \x01").ok());
  ASSERT_TRUE((*producer)->Flush(10'000));

  // The whole pipeline has run once Prometheus sees the referral paid, the dead letters, the
  // welcome webhooks delivered and given up, and the outage instance retrying its saga.
  std::string error;
  ASSERT_TRUE(Eventually(
      [&] {
        for (const char* q : {R"(referral_referrals_total{outcome="rewarded"} > 0)",
                              R"(kafka_messages_dead_lettered_total{job="loyalty-accrual"})",
                              R"(notification_notifications_total{outcome="delivered"} > 0)",
                              R"(notification_notifications_total{outcome="dead"} > 0)",
                              R"(outbox_published_total{job="loyalty-notification"} > 0)",
                              R"(redemption_saga_steps_retried_total{step="resume"} > 0)"}) {
          if (QueryResultSize(q, &error) <= 0) {
            error += std::string(" waiting for ") + q;
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(90)))
      << error << "\naccrual:\n"
      << accrual.process().LogTail() << "\nreferral:\n"
      << referral.process().LogTail() << "\nnotification:\n"
      << notification.process().LogTail() << "\nprometheus:\n"
      << prometheus_->LogTail();
  // A few more scrapes so that every rate window holds two samples after the load.
  std::this_thread::sleep_for(std::chrono::seconds(5));

  // Every panel of the landed services' dashboards.
  std::vector<PanelQuery> queries;
  for (const std::string name : {"overview", "accrual", "referral", "redemption", "notification"}) {
    Struct dashboard =
        ParseJson(ReadAll(kDeploy + "/grafana/dashboards/loyalty-" + name + ".json"));
    ASSERT_TRUE(dashboard.fields().count("panels")) << name;
    CollectQueries(name, dashboard.fields().at("panels"), &queries);
  }
  EXPECT_GE(queries.size(), 110u);
  for (const auto& q : queries) {
    std::string expr = SubstituteGrafanaVariables(q.expr);
    std::string last_error;
    int size = -1;
    Eventually(
        [&] {
          size = QueryResultSize(expr, &last_error);
          return size > 0;
        },
        std::chrono::seconds(20));
    EXPECT_GT(size, 0) << q.dashboard << " / " << q.panel << ": " << expr << " " << last_error;
  }

  // Every metric a panel names is one the services export (a typo in a name behind
  // "or vector(0)" would otherwise pass). Label names that share a prefix are not metrics.
  Struct names = Api("/api/v1/label/__name__/values");
  std::set<std::string> known;
  for (const auto& v : names.fields().at("data").list_value().values()) {
    known.insert(v.string_value());
  }
  // Lazily created series the demo cannot provoke (accrual refusing a referral step for good).
  const std::set<std::string> never_in_demo = {"referral_step_failures_total"};
  const std::set<std::string> labels = {"grpc_method", "grpc_code", "grpc_service"};
  std::regex name_re(
      R"(\b((?:accrual|referral|redemption|notification|kafka|grpc|outbox|process)_[a-z0-9_]+))");
  for (const auto& q : queries) {
    for (std::sregex_iterator it(q.expr.begin(), q.expr.end(), name_re), end; it != end; ++it) {
      std::string name = (*it)[1];
      if (labels.count(name) || never_in_demo.count(name)) continue;
      EXPECT_TRUE(known.count(name)) << q.dashboard << " / " << q.panel << " names " << name;
    }
  }

  // The real rules load and evaluate against real series without errors, and the garbage
  // message's dead letter fires LoyaltyDeadLetters for accrual.
  Struct rules = Api("/api/v1/rules");
  int rule_count = 0;
  for (const auto& g :
       rules.fields().at("data").struct_value().fields().at("groups").list_value().values()) {
    for (const auto& r : g.struct_value().fields().at("rules").list_value().values()) {
      ++rule_count;
      const auto& f = r.struct_value().fields();
      EXPECT_NE(f.at("health").string_value(), "err")
          << f.at("name").string_value() << ": " << f.at("lastError").string_value();
    }
  }
  EXPECT_GE(rule_count, 20);
  EXPECT_TRUE(Eventually(
      [&] {
        return QueryResultSize(
                   R"(ALERTS{alertname="LoyaltyDeadLetters", job="loyalty-accrual", alertstate="firing"})",
                   &error) > 0;
      },
      std::chrono::seconds(30)))
      << "LoyaltyDeadLetters did not fire: " << error;
}

}  // namespace
}  // namespace loyalty::testing
