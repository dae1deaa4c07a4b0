// The checks on what callers send: ids, addresses, and a member's preferences as a whole.
// Pure functions; each refusal names the field it is about.
#pragma once

#include <string>

#include "common/status.h"
#include "loyalty/v1/notification.pb.h"

namespace loyalty::notification {

bool ValidId(const std::string& id);
bool ValidEmail(const std::string& email);
bool ValidPhone(const std::string& phone);  // E.164
bool ValidUrl(const std::string& url);      // http(s)
bool ValidChatId(const std::string& chat_id);

// The member's address on channel ("" if none or an unknown channel).
std::string AddressOf(const v1::Preferences& prefs, const std::string& channel);

// Every field of prefs; INVALID_ARGUMENT naming the first field that is wrong.
Status ValidatePreferences(const v1::Preferences& prefs);

}  // namespace loyalty::notification
