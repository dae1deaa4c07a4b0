// Referral codes and contacts as the rules compare them: generated codes are short and
// unambiguous when read aloud or typed (no 0/O, no 1/I), stable per member; what a member
// types is normalised before it is looked up.
#pragma once

#include <string>

#include "common/status.h"

namespace loyalty::referral {

inline constexpr char kCodeAlphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";  // 32 symbols
inline constexpr size_t kGeneratedCodeLength = 8;                            // 40 bits

// The code of member_id for a given attempt; the next attempt after a collision is another
// code, so the code a member gets depends only on the codes taken before.
std::string GeneratedCode(const std::string& member_id, int attempt);

// Upper-cases and drops spaces and dashes (people copy "abcd-efgh"). field names the
// request field for the error.
StatusOr<std::string> NormalizeCode(const std::string& field, const std::string& input);

// A vanity code as an operator sets it: 4-20 letters and digits after normalising.
StatusOr<std::string> NormalizeVanityCode(const std::string& field, const std::string& input);

// Contacts as the self-referral rule compares them: phones by their digits, e-mails
// lower-cased, without a "+tag" and, for Gmail, without dots in the local part.
std::string ComparablePhone(const std::string& phone);
std::string ComparableEmail(const std::string& email);

}  // namespace loyalty::referral
