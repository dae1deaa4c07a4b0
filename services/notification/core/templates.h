// Mustache-subset templates: {{name}}, {{#flag}}...{{/flag}} (kept when flag is truthy) and
// {{^flag}}...{{/flag}} (kept when it is not). Plural forms are not sections: the mapper
// supplies the right word as a variable (points_word). Values are inserted as they are:
// every channel sends plain text (the webhook JSON-escapes the result).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "loyalty/v1/notification.pb.h"

namespace loyalty::notification {

using Vars = std::map<std::string, std::string>;

inline constexpr const char* kChannels[] = {"email", "sms", "webhook", "telegram"};
bool KnownChannel(const std::string& channel);

// Every kind and the variables its templates may use.
const std::vector<std::string>& AllKinds();
bool KnownKind(const std::string& kind);
// The variables of kind, or an empty set for an unknown kind. Every kind also has member_id.
const std::set<std::string>& AllowedVariables(const std::string& kind);

// Checks syntax and that every name is allowed. field prefixes the message ("body: ...").
Status ValidateTemplate(const std::string& field, const std::string& text,
                        const std::set<std::string>& allowed);
// Renders a template that passed validation; unknown names render as empty.
std::string Render(const std::string& text, const Vars& vars);

// The shipped default for kind and language (English when the language has none).
v1::Template DefaultTemplate(const std::string& kind, const std::string& language);

// Defaults plus the templates replaced at run time, which win per (kind, channel, language).
class TemplateSet {
 public:
  // Validates and stores a replacement.
  Status Put(const v1::Template& t);
  // The template in effect; source says "default" or "custom".
  v1::Template Get(const std::string& kind, const std::string& channel,
                   const std::string& language) const;
  static std::string Key(const std::string& kind, const std::string& channel,
                         const std::string& language) {
    return kind + "|" + channel + "|" + language;
  }
  static Status Validate(const v1::Template& t);

 private:
  std::map<std::string, v1::Template> custom_;
};

}  // namespace loyalty::notification
