// Members: their records (loaded from the store on first use and kept), the contact index
// that keeps phones and e-mails unique, and the member count.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "common/store.h"
#include "services/accrual/core/txn.h"
#include "services/accrual/core/types.h"

namespace loyalty::accrual {

class MemberBook {
 public:
  explicit MemberBook(const Store& store);

  MemberRecord* Find(const std::string& member_id);
  // The member of an id a caller gave in field: INVALID_ARGUMENT, NOT_FOUND or, if erased,
  // FAILED_PRECONDITION otherwise.
  StatusOr<MemberRecord*> FindActive(const std::string& field, const std::string& member_id);
  // A new member's record, counted; the caller fills it in.
  MemberRecord& Create(Txn& txn, const std::string& member_id);
  // The member a contact key ("phone:+380..." or "email:...") belongs to, if any.
  bool ContactTaken(const std::string& contact_key) const;
  void AddContact(Txn& txn, const std::string& contact_key, const std::string& member_id) const;
  void RemoveContact(Txn& txn, const std::string& contact_key) const;
  // The record is written with the transaction.
  static void Touch(Txn& txn, MemberRecord& member) { txn.dirty_members.insert(&member); }
  void WriteDirty(const Txn& txn, StagedWrite& write) const;
  int64_t count() const { return count_; }

 private:
  const Store& store_;
  std::unordered_map<std::string, MemberRecord> members_;
  int64_t count_ = 0;
};

}  // namespace loyalty::accrual
