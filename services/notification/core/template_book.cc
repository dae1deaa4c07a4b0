#include "services/notification/core/template_book.h"

#include "common/field_limits.h"
#include "services/notification/core/i18n.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

TemplateBook::TemplateBook(const Store& store) {
  store.Scan(cf::kTemplates, "", "", [&](std::string_view, std::string_view value) {
    v1::Template t;
    if (t.ParseFromArray(value.data(), static_cast<int>(value.size()))) templates_.Put(t);
    return true;
  });
}

StatusOr<v1::Template> TemplateBook::Set(Txn& txn, const v1::Template& t) {
  if (Status s = templates_.Put(t); !s.ok()) return s;
  v1::Template stored = templates_.Get(t.kind(), t.channel(), t.language());
  txn.Put(cf::kTemplates, TemplateSet::Key(t.kind(), t.channel(), t.language()),
          stored.SerializeAsString());
  return stored;
}

Status TemplateBook::CheckLookup(const std::string& kind, const std::string& channel,
                                 const std::string& language) {
  if (!KnownKind(kind)) return InvalidArgument("kind: unknown kind '" + Quote(kind) + "'");
  if (!KnownChannel(channel))
    return InvalidArgument("channel: unknown channel '" + Quote(channel) + "'");
  if (!SupportedLanguage(language)) {
    return InvalidArgument("language: unsupported '" + Quote(language) + "'");
  }
  return Status::Ok();
}

}  // namespace loyalty::notification
