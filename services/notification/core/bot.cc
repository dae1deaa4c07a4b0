#include "services/notification/core/bot.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "services/notification/core/i18n.h"

namespace loyalty::notification {
namespace {

constexpr size_t kMaxRewards = 5;  // a chat message, not the catalog

struct Phrases {
  const char* link_first;  // not linked
  const char* linked;
  const char* bad_code;
  const char* balance;  // available, word, pending, held
  const char* history;  // header
  const char* no_history;
  const char* rewards_off;
  const char* help;
  const char* unavailable;
  const char* rewards;     // header of the /rewards list
  const char* no_rewards;  // nothing affordable now
};

const Phrases& PhrasesFor(const std::string& language) {
  static const std::map<std::string, Phrases> table = {
      {"en",
       {"This chat is not linked yet. Send /start followed by the code from your account.",
        "Your chat is linked. Ask /balance, /history or /rewards.",
        "This code is unknown, already used or expired. Ask for a new one.",
        "Your balance: {available} {word}. Pending: {pending}. Held: {held}.",
        "Your latest entries:", "No entries yet.", "The rewards catalog is not available here yet.",
        "Commands: /balance, /history, /rewards.",
        "Sorry, this is not available right now. Please try again later.",
        "Rewards you can redeem now:", "No reward is within your points yet."}},
      {"uk",
       {"Цей чат ще не прив'язано. Надішліть /start і код з вашого облікового запису.",
        "Чат прив'язано. Запитуйте /balance, /history або /rewards.",
        "Код невідомий, уже використаний або прострочений. Отримайте новий.",
        "Ваш баланс: {available} {word}. Очікують: {pending}. Зарезервовано: {held}.",
        "Останні операції:", "Операцій ще немає.", "Каталог винагород тут поки недоступний.",
        "Команди: /balance, /history, /rewards.",
        "Вибачте, зараз це недоступно. Спробуйте пізніше.",
        "Винагороди, доступні вам зараз:", "Поки що жодна винагорода не доступна за ваші бали."}},
      {"ru",
       {"Этот чат ещё не привязан. Отправьте /start и код из вашего аккаунта.",
        "Чат привязан. Спрашивайте /balance, /history или /rewards.",
        "Код неизвестен, уже использован или просрочен. Получите новый.",
        "Ваш баланс: {available} {word}. Ожидают: {pending}. Зарезервировано: {held}.",
        "Последние операции:", "Операций пока нет.", "Каталог наград здесь пока недоступен.",
        "Команды: /balance, /history, /rewards.",
        "Извините, сейчас это недоступно. Попробуйте позже.",
        "Награды, доступные вам сейчас:", "Пока ни одна награда не доступна за ваши баллы."}},
      {"pl",
       {"Ten czat nie jest jeszcze połączony. Wyślij /start i kod ze swojego konta.",
        "Czat połączony. Pytaj /balance, /history lub /rewards.",
        "Ten kod jest nieznany, już użyty lub wygasł. Poproś o nowy.",
        "Twoje saldo: {available} {word}. Oczekujące: {pending}. Zablokowane: {held}.",
        "Ostatnie operacje:", "Brak operacji.", "Katalog nagród nie jest tu jeszcze dostępny.",
        "Polecenia: /balance, /history, /rewards.",
        "Przepraszamy, to jest teraz niedostępne. Spróbuj później.",
        "Nagrody, które możesz teraz odebrać:",
        "Na razie żadna nagroda nie jest w zasięgu Twoich punktów."}},
      {"hu",
       {"Ez a csevegés még nincs összekapcsolva. Küldje el: /start és a fiókjában látható kód.",
        "A csevegés összekapcsolva. Kérdezze: /balance, /history vagy /rewards.",
        "A kód ismeretlen, már felhasznált vagy lejárt. Kérjen újat.",
        "Egyenlege: {available} {word}. Függőben: {pending}. Zárolva: {held}.",
        "Legutóbbi tételek:", "Még nincsenek tételek.", "A jutalomkatalógus itt még nem érhető el.",
        "Parancsok: /balance, /history, /rewards.",
        "Elnézést, ez most nem érhető el. Próbálja később.",
        "Most beváltható jutalmak:", "Pontjaiból még egyik jutalom sem érhető el."}},
  };
  auto it = table.find(language);
  return it == table.end() ? table.at("en") : it->second;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string BalanceReply(AccrualClient* accrual, const std::string& member_id,
                         const std::string& language, const Phrases& say) {
  if (accrual == nullptr) return say.unavailable;
  auto balance = accrual->GetBalance(member_id);
  if (!balance.ok()) return say.unavailable;
  const auto& b = balance->balance();
  std::string reply = say.balance;
  reply = Replace(reply, "{available}", std::to_string(b.available()));
  reply = Replace(reply, "{word}", PointsWord(language, b.available()));
  reply = Replace(reply, "{pending}", std::to_string(b.pending()));
  reply = Replace(reply, "{held}", std::to_string(b.held()));
  return reply;
}

std::string HistoryReply(AccrualClient* accrual, const std::string& member_id,
                         const std::string& language, const Phrases& say) {
  if (accrual == nullptr) return say.unavailable;
  v1::ListLedgerRequest request;
  request.set_member_id(member_id);
  request.set_page_size(5);
  auto ledger = accrual->ListLedger(request);
  if (!ledger.ok()) return say.unavailable;
  if (ledger->entries_size() == 0) return say.no_history;
  std::string reply = say.history;
  for (const auto& e : ledger->entries()) {
    int64_t delta = e.available_delta() + e.pending_delta();
    reply += "\n" + std::string(delta >= 0 ? "+" : "") + std::to_string(delta) + " " +
             PointsWord(language, delta) + " — " + e.reason();
  }
  return reply;
}

std::string RewardsReply(RedemptionClient* redemption, const std::string& member_id,
                         const std::string& language, const Phrases& say) {
  if (redemption == nullptr) return say.rewards_off;
  auto offers = redemption->ListRewards(member_id);
  if (!offers.ok()) return say.unavailable;
  // What the member can redeem right now (redemption already dropped what they may not:
  // audience, validity, stock, limits), cheapest first, at most kMaxRewards.
  std::vector<const v1::Reward*> affordable;
  for (const auto& offer : offers->offers()) {
    if (offer.affordable()) affordable.push_back(&offer.reward());
  }
  if (affordable.empty()) return say.no_rewards;
  std::stable_sort(affordable.begin(), affordable.end(), [](const auto* a, const auto* b) {
    return a->points_price() < b->points_price();
  });
  std::string reply = say.rewards;
  for (size_t i = 0; i < affordable.size() && i < kMaxRewards; ++i) {
    reply += "\n" + affordable[i]->name() + " — " + std::to_string(affordable[i]->points_price()) +
             " " + PointsWord(language, affordable[i]->points_price());
  }
  return reply;
}

}  // namespace

std::string BalanceBot::Handle(const std::string& chat_id, const std::string& raw_text) {
  std::string text = raw_text;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
  std::istringstream words(text);
  std::string command, argument;
  words >> command >> argument;
  // "/balance@MyBot" in groups.
  if (auto at = command.find('@'); at != std::string::npos) command.resize(at);

  std::optional<std::string> member_id = core_.MemberOfChat(chat_id);
  std::string language = "en";
  if (member_id) {
    auto prefs = core_.GetPreferences(*member_id);
    if (prefs.ok() && !prefs->language().empty()) language = prefs->language();
  }
  const Phrases& say = PhrasesFor(language);

  if ((command == "/start" || command == "/link") && !argument.empty()) {
    auto linked = core_.LinkTelegramChat(argument, chat_id);
    if (!linked.ok()) return PhrasesFor(language).bad_code;
    auto prefs = core_.GetPreferences(*linked);
    return PhrasesFor(prefs.ok() && !prefs->language().empty() ? prefs->language() : "en").linked;
  }
  if (!member_id) return say.link_first;
  if (command == "/balance") return BalanceReply(accrual_, *member_id, language, say);
  if (command == "/history") return HistoryReply(accrual_, *member_id, language, say);
  if (command == "/rewards") return RewardsReply(redemption_, *member_id, language, say);
  return say.help;
}

}  // namespace loyalty::notification
