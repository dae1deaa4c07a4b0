#include "services/redemption/core/voucher_book.h"

#include <algorithm>

#include "services/redemption/core/types.h"
#include "services/redemption/core/voucher_code.h"

namespace loyalty::redemption {

StatusOr<v1::Voucher> VoucherBook::Load(const std::string& code) const {
  std::string value;
  if (!store_.Get(cf::kVouchers, code, &value)) return NotFound("code: no such voucher");
  v1::Voucher v;
  v.ParseFromString(value);
  return v;
}

void VoucherBook::Put(Txn& txn, const v1::Voucher& voucher) const {
  txn.Put(cf::kVouchers, voucher.code(), voucher.SerializeAsString(), /*visible=*/true);
}

std::vector<v1::Voucher> VoucherBook::Issue(Txn& txn, const v1::Redemption& redemption,
                                            const v1::Reward& reward) {
  std::vector<v1::Voucher> vouchers;
  // A donation is given on the member's behalf: nothing to present at a till.
  if (reward.kind() == v1::REWARD_KIND_DONATION) return vouchers;
  auto random64 = [this] {
    return (static_cast<uint64_t>(random_device_()) << 32) | random_device_();
  };
  int64_t now = clock_.NowMs();
  int64_t days =
      reward.voucher_validity_days() > 0 ? reward.voucher_validity_days() : default_validity_days_;
  int64_t until = now + days * kDayMs;
  if (reward.valid_until_ms() != 0) until = std::min(until, reward.valid_until_ms());
  for (int64_t i = 0; i < redemption.quantity(); ++i) {
    v1::Voucher v;
    std::string ignored;
    do {
      v.set_code(NewVoucherCode(random64));
    } while (store_.Get(cf::kVouchers, v.code(), &ignored));  // 75 bits: practically never
    v.set_redemption_id(redemption.redemption_id());
    v.set_reward_id(redemption.reward_id());
    v.set_member_id(redemption.member_id());
    v.set_status(v1::VOUCHER_STATUS_ACTIVE);
    v.set_valid_from_ms(now);
    v.set_valid_until_ms(until);
    Put(txn, v);
    vouchers.push_back(std::move(v));
  }
  return vouchers;
}

v1::Voucher VoucherBook::WithDisplayStatus(v1::Voucher voucher) const {
  if (voucher.status() == v1::VOUCHER_STATUS_ACTIVE && clock_.NowMs() >= voucher.valid_until_ms()) {
    voucher.set_status(v1::VOUCHER_STATUS_EXPIRED);
  }
  return voucher;
}

std::string VoucherBook::WhyNotUsable(const v1::Voucher& shown, const v1::Reward& reward,
                                      const std::string& store_id) const {
  switch (shown.status()) {
    case v1::VOUCHER_STATUS_USED:
      return "voucher already used";
    case v1::VOUCHER_STATUS_CANCELLED:
      return "voucher cancelled";
    case v1::VOUCHER_STATUS_EXPIRED:
      return "voucher expired";
    default:
      break;
  }
  if (clock_.NowMs() < shown.valid_from_ms()) return "voucher not valid yet";
  const auto& stores = reward.store_ids();
  if (!stores.empty() && std::find(stores.begin(), stores.end(), store_id) == stores.end()) {
    return "voucher not valid at store " + store_id;
  }
  return "";
}

Status VoucherBook::CheckUse(const v1::Voucher& shown, const v1::Reward* reward,
                             const std::string& store_id) const {
  switch (shown.status()) {
    case v1::VOUCHER_STATUS_USED:
      return FailedPrecondition("code: voucher already used at " + shown.used_store_id());
    case v1::VOUCHER_STATUS_CANCELLED:
      return FailedPrecondition("code: voucher cancelled");
    case v1::VOUCHER_STATUS_EXPIRED:
      return FailedPrecondition("code: voucher expired");
    default:
      break;
  }
  if (clock_.NowMs() < shown.valid_from_ms())
    return FailedPrecondition("code: voucher not valid yet");
  if (reward != nullptr && !reward->store_ids().empty()) {
    const auto& stores = reward->store_ids();
    if (std::find(stores.begin(), stores.end(), store_id) == stores.end()) {
      return FailedPrecondition("store_id: voucher not valid at store " + store_id);
    }
  }
  return Status::Ok();
}

}  // namespace loyalty::redemption
