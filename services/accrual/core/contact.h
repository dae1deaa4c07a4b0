// Normalising members' contacts, so that "+380 (67) 123-45-67" and "0671234567" are the same
// phone and "Olena@Example.COM " the same e-mail, and a contact stays unique.
#pragma once

#include <string>

#include "common/status.h"

namespace loyalty::accrual {

// To E.164 ("+380671234567"). A national number (starting with a trunk 0) takes
// default_country_code (e.g. "380"); without one it must be international ("+" or "00").
StatusOr<std::string> NormalizePhone(const std::string& raw,
                                     const std::string& default_country_code);

// Trimmed and lower-cased; one "@", a dotted domain of letters, digits and hyphens.
StatusOr<std::string> NormalizeEmail(const std::string& raw);

}  // namespace loyalty::accrual
