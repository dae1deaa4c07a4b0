// The templates in effect: the shipped defaults plus the replacements made at run time,
// which are loaded on start and saved with the call that makes them.
#pragma once

#include <string>

#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/templates.h"
#include "services/notification/core/txn.h"

namespace loyalty::notification {

class TemplateBook {
 public:
  explicit TemplateBook(const Store& store);

  // Validates and saves a replacement; returns it as it is now in effect.
  StatusOr<v1::Template> Set(Txn& txn, const v1::Template& t);
  v1::Template Get(const std::string& kind, const std::string& channel,
                   const std::string& language) const {
    return templates_.Get(kind, channel, language);
  }
  // INVALID_ARGUMENT naming the field if kind, channel or language is unknown.
  static Status CheckLookup(const std::string& kind, const std::string& channel,
                            const std::string& language);
  const TemplateSet& set() const { return templates_; }

 private:
  TemplateSet templates_;
};

}  // namespace loyalty::notification
