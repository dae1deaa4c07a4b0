#include "services/notification/core/templates.h"

#include <cctype>

#include "common/field_limits.h"
#include "services/notification/core/i18n.h"

namespace loyalty::notification {
namespace {

struct Tag {
  char type;  // 'v' variable, '#' section, '^' inverted, '/' end
  std::string name;
  size_t begin;  // of "{{"
  size_t end;    // after "}}"
};

// Finds the next tag at or after pos; false when there is none. A malformed tag is an error.
Status NextTag(const std::string& text, size_t pos, Tag* tag, bool* found) {
  *found = false;
  size_t open = text.find("{{", pos);
  if (open == std::string::npos) {
    if (text.find("}}", pos) != std::string::npos) {
      return InvalidArgument("'}}' without '{{' at offset " + std::to_string(text.find("}}", pos)));
    }
    return Status::Ok();
  }
  size_t close = text.find("}}", open + 2);
  if (close == std::string::npos) {
    return InvalidArgument("unclosed '{{' at offset " + std::to_string(open));
  }
  std::string inner = text.substr(open + 2, close - open - 2);
  while (!inner.empty() && inner.front() == ' ') inner.erase(inner.begin());
  while (!inner.empty() && inner.back() == ' ') inner.pop_back();
  tag->type = 'v';
  if (!inner.empty() && (inner[0] == '#' || inner[0] == '^' || inner[0] == '/')) {
    tag->type = inner[0];
    inner.erase(inner.begin());
  }
  if (inner.empty()) return InvalidArgument("empty tag at offset " + std::to_string(open));
  for (char c : inner) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return InvalidArgument("tag '" + Quote(inner) + "' at offset " + std::to_string(open) +
                             ": only lower-case names, digits and '_' (no partials, comments or "
                             "triple braces)");
    }
  }
  tag->name = inner;
  tag->begin = open;
  tag->end = close + 2;
  *found = true;
  return Status::Ok();
}

bool Truthy(const Vars& vars, const std::string& name) {
  auto it = vars.find(name);
  return it != vars.end() && !it->second.empty() && it->second != "false" && it->second != "0";
}

// Renders text[pos, until) and returns where it stopped (at a '/' tag or until).
void RenderRange(const std::string& text, size_t pos, const Vars& vars, bool emit,
                 const std::string& closing, std::string& out, size_t* stopped) {
  while (true) {
    Tag tag;
    bool found = false;
    NextTag(text, pos, &tag, &found);
    if (!found) {
      if (emit) out.append(text, pos, std::string::npos);
      *stopped = text.size();
      return;
    }
    if (emit) out.append(text, pos, tag.begin - pos);
    if (tag.type == '/') {
      *stopped = tag.end;
      return;
    }
    if (tag.type == 'v') {
      if (emit) {
        auto it = vars.find(tag.name);
        if (it != vars.end()) out += it->second;
      }
      pos = tag.end;
      continue;
    }
    bool truthy = Truthy(vars, tag.name);
    bool inner_emit = emit && (tag.type == '#' ? truthy : !truthy);
    RenderRange(text, tag.end, vars, inner_emit, tag.name, out, &pos);
  }
}

}  // namespace

bool KnownChannel(const std::string& channel) {
  for (const char* c : kChannels) {
    if (channel == c) return true;
  }
  return false;
}

const std::vector<std::string>& AllKinds() {
  static const std::vector<std::string> kinds = {
      "welcome",           "points_earned", "purchase_thanks", "pending_released",
      "tier_changed",      "expiring_soon", "reward_redeemed", "voucher_used",
      "referral_rewarded", "milestone",     "digest"};
  return kinds;
}

bool KnownKind(const std::string& kind) {
  for (const auto& k : AllKinds()) {
    if (k == kind) return true;
  }
  return false;
}

const std::set<std::string>& AllowedVariables(const std::string& kind) {
  static const std::map<std::string, std::set<std::string>> by_kind = [] {
    std::map<std::string, std::set<std::string>> m;
    const std::set<std::string> points = {"points", "points_word"};
    const std::set<std::string> balance = {"balance", "balance_word"};
    auto with = [](std::set<std::string> a, const std::set<std::string>& b) {
      a.insert(b.begin(), b.end());
      return a;
    };
    m["welcome"] = {"tier"};
    m["points_earned"] = with(with(points, balance), {"purchase_id"});
    m["purchase_thanks"] = with(points, {"purchase_id", "has_points"});
    m["pending_released"] = with(with(points, balance), {"purchase_id"});
    m["tier_changed"] = {"from_tier", "to_tier", "upgrade", "next_evaluation",
                         "has_next_evaluation"};
    m["expiring_soon"] = with(with(points, balance), {"expires_on", "has_reward", "reward_name",
                                                      "reward_points", "reward_points_word"});
    m["reward_redeemed"] =
        with(points, {"reward_name", "voucher_codes", "valid_until", "has_valid_until"});
    m["voucher_used"] = {"voucher_code", "reward_id", "store_id"};
    m["referral_rewarded"] = with(points, {"is_referrer"});
    m["milestone"] = {"title", "milestone_id", "bonus_points", "bonus_points_word", "has_bonus"};
    m["digest"] = {"count", "count_word", "items"};
    for (auto& [kind, vars] : m) vars.insert("member_id");
    return m;
  }();
  static const std::set<std::string> none;
  auto it = by_kind.find(kind);
  return it == by_kind.end() ? none : it->second;
}

Status ValidateTemplate(const std::string& field, const std::string& text,
                        const std::set<std::string>& allowed) {
  std::vector<std::string> open;
  size_t pos = 0;
  while (true) {
    Tag tag;
    bool found = false;
    if (Status s = NextTag(text, pos, &tag, &found); !s.ok()) {
      return InvalidArgument(field + ": " + s.message());
    }
    if (!found) break;
    if (tag.type == '/') {
      if (open.empty() || open.back() != tag.name) {
        return InvalidArgument(field + ": '{{/" + tag.name + "}}' closes nothing open");
      }
      open.pop_back();
    } else {
      if (!allowed.count(tag.name)) {
        return InvalidArgument(field + ": unknown variable '" + Quote(tag.name) + "'");
      }
      if (tag.type != 'v') open.push_back(tag.name);
    }
    pos = tag.end;
  }
  if (!open.empty())
    return InvalidArgument(field + ": section '" + Quote(open.back()) + "' not closed");
  return Status::Ok();
}

std::string Render(const std::string& text, const Vars& vars) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t stopped = 0;
    RenderRange(text, pos, vars, true, "", out, &stopped);
    pos = stopped;  // a stray closing tag (invalid template) is skipped
  }
  return out;
}

Status TemplateSet::Validate(const v1::Template& t) {
  if (!KnownKind(t.kind()))
    return InvalidArgument("template.kind: unknown kind '" + Quote(t.kind()) + "'");
  if (!KnownChannel(t.channel())) {
    return InvalidArgument("template.channel: unknown channel '" + Quote(t.channel()) + "'");
  }
  if (!SupportedLanguage(t.language())) {
    return InvalidArgument("template.language: unsupported language '" + Quote(t.language()) + "'");
  }
  if (t.body().empty()) return InvalidArgument("template.body: required");
  if (t.body().size() > 8192 || t.subject().size() > 512) {
    return InvalidArgument("template.body: longer than 8192 bytes (subject: 512)");
  }
  const auto& allowed = AllowedVariables(t.kind());
  if (Status s = ValidateTemplate("template.subject", t.subject(), allowed); !s.ok()) return s;
  return ValidateTemplate("template.body", t.body(), allowed);
}

Status TemplateSet::Put(const v1::Template& t) {
  if (Status s = Validate(t); !s.ok()) return s;
  v1::Template stored = t;
  stored.set_source("custom");
  custom_[Key(t.kind(), t.channel(), t.language())] = std::move(stored);
  return Status::Ok();
}

v1::Template TemplateSet::Get(const std::string& kind, const std::string& channel,
                              const std::string& language) const {
  auto it = custom_.find(Key(kind, channel, language));
  if (it != custom_.end()) return it->second;
  v1::Template t = DefaultTemplate(kind, language);
  t.set_channel(channel);
  return t;
}

}  // namespace loyalty::notification
