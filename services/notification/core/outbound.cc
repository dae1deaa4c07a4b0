#include "services/notification/core/outbound.h"

#include <set>

#include "common/check.h"
#include "services/notification/core/delivery_log.h"
#include "services/notification/core/validation.h"

namespace loyalty::notification {

std::vector<v1::Notification> Compose(const Message& message, const v1::Preferences& prefs,
                                      const std::string& language, const TemplateSet& templates,
                                      TimeMs now) {
  std::vector<v1::Notification> out;
  std::set<std::string> channels;
  for (const auto& channel : prefs.channels()) {
    std::string address = AddressOf(prefs, channel);
    if (address.empty()) continue;
    // One notification per (event, channel): its id is made of the two.
    LOYALTY_CHECK(channels.insert(channel).second, prefs.member_id() + ": '" + channel + "' twice");
    v1::Notification& n = out.emplace_back();
    n.set_notification_id(NotificationIdOf(message.event_id, channel));
    n.set_member_id(prefs.member_id());
    n.set_event_id(message.event_id);
    n.set_kind(message.kind);
    n.set_channel(channel);
    n.set_address(address);
    n.set_language(language);
    v1::Template t = templates.Get(message.kind, channel, language);
    if (channel == "email" || channel == "webhook")
      n.set_subject(Render(t.subject(), message.vars));
    n.set_body(Render(t.body(), message.vars));
    n.set_status(kStatusQueued);
    n.set_created_at_ms(now.value());
    n.set_next_attempt_at_ms(message.due.value());
    n.set_transactional(message.transactional);
  }
  return out;
}

void QueueMessage(Modules& m, Txn& txn, const v1::Preferences& prefs, const Message& message,
                  BatchResult* result) {
  TimeMs now(m.clock.NowMs());
  for (auto& n : Compose(message, prefs, m.prefs.LanguageOf(&prefs), m.templates.set(), now)) {
    m.log.Add(txn, n);
    m.queue.Schedule(txn, n);
    if (result) ++result->queued[{n.kind(), n.channel()}];
    txn.created.push_back(std::move(n));
  }
}

}  // namespace loyalty::notification
