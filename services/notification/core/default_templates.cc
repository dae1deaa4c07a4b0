// The shipped templates: every kind in en, uk, ru, pl, hu. One default per kind and language
// serves every channel (e-mail adds the subject); operators replace any of them per channel
// with SetTemplate. Numbers are followed by a plural word chosen in code (points_word).
#include <map>
#include <string>
#include <utility>

#include "services/notification/core/templates.h"

namespace loyalty::notification {
namespace {

struct Text {
  const char* subject;
  const char* body;
};

using Table = std::map<std::pair<std::string, std::string>, Text>;  // (kind, language)

const Table& Defaults() {
  static const Table table = {
      // --- English ---
      {{"welcome", "en"},
       {"Welcome to our loyalty program",
        "Welcome! You are now a member at tier {{tier}}. Collect points with every purchase."}},
      {{"points_earned", "en"},
       {"You earned {{points}} {{points_word}}",
        "You earned {{points}} {{points_word}}. Your balance is now {{balance}} "
        "{{balance_word}}."}},
      {{"purchase_thanks", "en"},
       {"Thank you for your purchase",
        "Thank you for your purchase!{{#has_points}} When the return period ends you will "
        "receive {{points}} {{points_word}}.{{/has_points}}"}},
      {{"pending_released", "en"},
       {"Points released: {{points}} {{points_word}}",
        "Your {{points}} {{points_word}} from a purchase can now be spent. Balance: {{balance}} "
        "{{balance_word}}."}},
      {{"tier_changed", "en"},
       {"{{#upgrade}}Congratulations! You reached {{to_tier}}{{/upgrade}}{{^upgrade}}Your tier "
        "is now {{to_tier}}{{/upgrade}}",
        "{{#upgrade}}Congratulations! You moved up from {{from_tier}} to {{to_tier}} and now "
        "enjoy its benefits.{{/upgrade}}{{^upgrade}}Your tier changed from {{from_tier}} to "
        "{{to_tier}}. Keep shopping to earn your tier back{{#has_next_evaluation}} by "
        "{{next_evaluation}}{{/has_next_evaluation}}.{{/upgrade}}"}},
      {{"expiring_soon", "en"},
       {"Points expiring on {{expires_on}}",
        "Points expiring on {{expires_on}}: {{points}} {{points_word}}. Use them in time: your "
        "balance is {{balance}} {{balance_word}}.{{#has_reward}} You can afford {{reward_name}} "
        "for {{reward_points}} {{reward_points_word}}.{{/has_reward}}"}},
      {{"reward_redeemed", "en"},
       {"Your reward: {{reward_name}}",
        "You redeemed {{reward_name}} for {{points}} {{points_word}}. Voucher code: "
        "{{voucher_codes}}{{#has_valid_until}}, valid until {{valid_until}}{{/has_valid_until}}."}},
      {{"voucher_used", "en"},
       {"Voucher {{voucher_code}} used",
        "Your voucher {{voucher_code}} has been used. Thank you!"}},
      {{"referral_rewarded", "en"},
       {"Referral bonus: {{points}} {{points_word}}",
        "{{#is_referrer}}Your friend made their first purchase.{{/is_referrer}}{{^is_referrer}}"
        "Thanks for joining through a friend.{{/is_referrer}} You received {{points}} "
        "{{points_word}}."}},
      {{"milestone", "en"},
       {"Milestone reached: {{title}}",
        "You reached a milestone: {{title}}!{{#has_bonus}} Bonus: {{bonus_points}} "
        "{{bonus_points_word}}.{{/has_bonus}}"}},
      {{"digest", "en"},
       {"{{count}} {{count_word}}", "Your notifications ({{count}}):\n{{items}}"}},

      // --- Українська ---
      {{"welcome", "uk"},
       {"Ласкаво просимо до програми лояльності",
        "Вітаємо! Ви учасник програми, ваш рівень — {{tier}}. Отримуйте бали за кожну покупку."}},
      {{"points_earned", "uk"},
       {"Нараховано {{points}} {{points_word}}",
        "Вам нараховано {{points}} {{points_word}}. Ваш баланс: {{balance}} {{balance_word}}."}},
      {{"purchase_thanks", "uk"},
       {"Дякуємо за покупку",
        "Дякуємо за покупку!{{#has_points}} Після завершення терміну повернення ви отримаєте "
        "{{points}} {{points_word}}.{{/has_points}}"}},
      {{"pending_released", "uk"},
       {"Бали доступні: {{points}} {{points_word}}",
        "Тепер можна витратити {{points}} {{points_word}} за покупку. Баланс: {{balance}} "
        "{{balance_word}}."}},
      {{"tier_changed", "uk"},
       {"{{#upgrade}}Вітаємо! Ваш новий рівень — {{to_tier}}{{/upgrade}}{{^upgrade}}Ваш рівень "
        "тепер {{to_tier}}{{/upgrade}}",
        "{{#upgrade}}Вітаємо! Ви перейшли з рівня {{from_tier}} на {{to_tier}} і тепер маєте "
        "його переваги.{{/upgrade}}{{^upgrade}}Ваш рівень змінився з {{from_tier}} на "
        "{{to_tier}}. Робіть покупки, щоб повернути рівень{{#has_next_evaluation}} до "
        "{{next_evaluation}}{{/has_next_evaluation}}.{{/upgrade}}"}},
      {{"expiring_soon", "uk"},
       {"Бали згорають {{expires_on}}",
        "Бали, що згорають {{expires_on}}: {{points}} {{points_word}}. Встигніть їх "
        "використати: ваш баланс {{balance}} {{balance_word}}.{{#has_reward}} Вам доступна "
        "винагорода «{{reward_name}}» за {{reward_points}} {{reward_points_word}}."
        "{{/has_reward}}"}},
      {{"reward_redeemed", "uk"},
       {"Ваша винагорода: {{reward_name}}",
        "Ви обміняли {{points}} {{points_word}} на «{{reward_name}}». Код ваучера: "
        "{{voucher_codes}}{{#has_valid_until}}, дійсний до {{valid_until}}{{/has_valid_until}}."}},
      {{"voucher_used", "uk"},
       {"Ваучер {{voucher_code}} використано",
        "Ваш ваучер {{voucher_code}} використано. Дякуємо!"}},
      {{"referral_rewarded", "uk"},
       {"Бонус за запрошення: {{points}} {{points_word}}",
        "{{#is_referrer}}Ваш друг зробив першу покупку.{{/is_referrer}}{{^is_referrer}}Дякуємо, "
        "що приєдналися за запрошенням друга.{{/is_referrer}} Вам нараховано {{points}} "
        "{{points_word}}."}},
      {{"milestone", "uk"},
       {"Нове досягнення: {{title}}",
        "Ви досягли нової мети: {{title}}!{{#has_bonus}} Бонус: {{bonus_points}} "
        "{{bonus_points_word}}.{{/has_bonus}}"}},
      {{"digest", "uk"}, {"{{count}} {{count_word}}", "Ваші сповіщення ({{count}}):\n{{items}}"}},

      // --- Русский ---
      {{"welcome", "ru"},
       {"Добро пожаловать в программу лояльности",
        "Добро пожаловать! Вы участник программы, ваш уровень — {{tier}}. Получайте баллы за "
        "каждую покупку."}},
      {{"points_earned", "ru"},
       {"Начислено {{points}} {{points_word}}",
        "Вам начислено {{points}} {{points_word}}. Ваш баланс: {{balance}} {{balance_word}}."}},
      {{"purchase_thanks", "ru"},
       {"Спасибо за покупку",
        "Спасибо за покупку!{{#has_points}} После окончания срока возврата вы получите "
        "{{points}} {{points_word}}.{{/has_points}}"}},
      {{"pending_released", "ru"},
       {"Баллы доступны: {{points}} {{points_word}}",
        "Теперь можно потратить {{points}} {{points_word}} за покупку. Баланс: {{balance}} "
        "{{balance_word}}."}},
      {{"tier_changed", "ru"},
       {"{{#upgrade}}Поздравляем! Ваш новый уровень — {{to_tier}}{{/upgrade}}{{^upgrade}}Ваш "
        "уровень теперь {{to_tier}}{{/upgrade}}",
        "{{#upgrade}}Поздравляем! Вы перешли с уровня {{from_tier}} на {{to_tier}} и теперь "
        "пользуетесь его преимуществами.{{/upgrade}}{{^upgrade}}Ваш уровень изменился с "
        "{{from_tier}} на {{to_tier}}. Совершайте покупки, чтобы вернуть уровень"
        "{{#has_next_evaluation}} до {{next_evaluation}}{{/has_next_evaluation}}.{{/upgrade}}"}},
      {{"expiring_soon", "ru"},
       {"Баллы сгорают {{expires_on}}",
        "Баллы, которые сгорят {{expires_on}}: {{points}} {{points_word}}. Успейте их "
        "потратить: ваш баланс {{balance}} {{balance_word}}.{{#has_reward}} Вам доступна "
        "награда «{{reward_name}}» за {{reward_points}} {{reward_points_word}}."
        "{{/has_reward}}"}},
      {{"reward_redeemed", "ru"},
       {"Ваша награда: {{reward_name}}",
        "Вы обменяли {{points}} {{points_word}} на «{{reward_name}}». Код ваучера: "
        "{{voucher_codes}}{{#has_valid_until}}, действует до {{valid_until}}"
        "{{/has_valid_until}}."}},
      {{"voucher_used", "ru"},
       {"Ваучер {{voucher_code}} использован",
        "Ваш ваучер {{voucher_code}} использован. Спасибо!"}},
      {{"referral_rewarded", "ru"},
       {"Бонус за приглашение: {{points}} {{points_word}}",
        "{{#is_referrer}}Ваш друг совершил первую покупку.{{/is_referrer}}{{^is_referrer}}"
        "Спасибо, что присоединились по приглашению друга.{{/is_referrer}} Вам начислено "
        "{{points}} {{points_word}}."}},
      {{"milestone", "ru"},
       {"Новое достижение: {{title}}",
        "Вы достигли новой цели: {{title}}!{{#has_bonus}} Бонус: {{bonus_points}} "
        "{{bonus_points_word}}.{{/has_bonus}}"}},
      {{"digest", "ru"}, {"{{count}} {{count_word}}", "Ваши уведомления ({{count}}):\n{{items}}"}},

      // --- Polski ---
      {{"welcome", "pl"},
       {"Witamy w programie lojalnościowym",
        "Witamy! Jesteś uczestnikiem programu na poziomie {{tier}}. Zbieraj punkty za każde "
        "zakupy."}},
      {{"points_earned", "pl"},
       {"Otrzymujesz {{points}} {{points_word}}",
        "Otrzymujesz {{points}} {{points_word}}. Twoje saldo: {{balance}} {{balance_word}}."}},
      {{"purchase_thanks", "pl"},
       {"Dziękujemy za zakupy",
        "Dziękujemy za zakupy!{{#has_points}} Po upływie okresu zwrotu otrzymasz {{points}} "
        "{{points_word}}.{{/has_points}}"}},
      {{"pending_released", "pl"},
       {"Punkty dostępne: {{points}} {{points_word}}",
        "Możesz już wydać {{points}} {{points_word}} za zakupy. Saldo: {{balance}} "
        "{{balance_word}}."}},
      {{"tier_changed", "pl"},
       {"{{#upgrade}}Gratulacje! Twój nowy poziom to {{to_tier}}{{/upgrade}}{{^upgrade}}Twój "
        "poziom to teraz {{to_tier}}{{/upgrade}}",
        "{{#upgrade}}Gratulacje! Awansujesz z poziomu {{from_tier}} na {{to_tier}} i korzystasz "
        "z jego przywilejów.{{/upgrade}}{{^upgrade}}Twój poziom zmienił się z {{from_tier}} na "
        "{{to_tier}}. Rób zakupy, aby odzyskać poziom{{#has_next_evaluation}} do "
        "{{next_evaluation}}{{/has_next_evaluation}}.{{/upgrade}}"}},
      {{"expiring_soon", "pl"},
       {"Punkty wygasają {{expires_on}}",
        "Punkty, które wygasną {{expires_on}}: {{points}} {{points_word}}. Wykorzystaj je: "
        "Twoje saldo to {{balance}} {{balance_word}}.{{#has_reward}} Stać Cię na nagrodę "
        "„{{reward_name}}” za {{reward_points}} {{reward_points_word}}.{{/has_reward}}"}},
      {{"reward_redeemed", "pl"},
       {"Twoja nagroda: {{reward_name}}",
        "Wymieniasz {{points}} {{points_word}} na „{{reward_name}}”. Kod vouchera: "
        "{{voucher_codes}}{{#has_valid_until}}, ważny do {{valid_until}}{{/has_valid_until}}."}},
      {{"voucher_used", "pl"},
       {"Voucher {{voucher_code}} wykorzystany",
        "Twój voucher {{voucher_code}} został wykorzystany. Dziękujemy!"}},
      {{"referral_rewarded", "pl"},
       {"Bonus za polecenie: {{points}} {{points_word}}",
        "{{#is_referrer}}Twój znajomy zrobił pierwsze zakupy.{{/is_referrer}}{{^is_referrer}}"
        "Dziękujemy za dołączenie z polecenia znajomego.{{/is_referrer}} Otrzymujesz {{points}} "
        "{{points_word}}."}},
      {{"milestone", "pl"},
       {"Nowe osiągnięcie: {{title}}",
        "Nowy cel osiągnięty: {{title}}!{{#has_bonus}} Bonus: {{bonus_points}} "
        "{{bonus_points_word}}.{{/has_bonus}}"}},
      {{"digest", "pl"},
       {"{{count}} {{count_word}}", "Twoje powiadomienia ({{count}}):\n{{items}}"}},

      // --- Magyar ---
      {{"welcome", "hu"},
       {"Üdvözöljük a hűségprogramban",
        "Üdvözöljük! Ön a program tagja, szintje: {{tier}}. Gyűjtsön pontokat minden "
        "vásárlással."}},
      {{"points_earned", "hu"},
       {"Jóváírt pontok: {{points}} {{points_word}}",
        "Jóváírt pontok: {{points}} {{points_word}}. Egyenlege: {{balance}} {{balance_word}}."}},
      {{"purchase_thanks", "hu"},
       {"Köszönjük a vásárlást",
        "Köszönjük a vásárlást!{{#has_points}} A visszaküldési idő lejárta után jóváírunk: "
        "{{points}} {{points_word}}.{{/has_points}}"}},
      {{"pending_released", "hu"},
       {"Felhasználható pontok: {{points}} {{points_word}}",
        "Mostantól felhasználható a vásárlásért kapott {{points}} {{points_word}}. Egyenleg: "
        "{{balance}} {{balance_word}}."}},
      {{"tier_changed", "hu"},
       {"{{#upgrade}}Gratulálunk! Új szintje: {{to_tier}}{{/upgrade}}{{^upgrade}}Új szintje: "
        "{{to_tier}}{{/upgrade}}",
        "{{#upgrade}}Gratulálunk! {{from_tier}} szintről {{to_tier}} szintre lépett, és "
        "élvezheti annak előnyeit.{{/upgrade}}{{^upgrade}}Szintje megváltozott: {{from_tier}} → "
        "{{to_tier}}. Vásároljon, hogy visszaszerezze szintjét{{#has_next_evaluation}} "
        "({{next_evaluation}}){{/has_next_evaluation}}.{{/upgrade}}"}},
      {{"expiring_soon", "hu"},
       {"Lejáró pontok: {{expires_on}}",
        "{{expires_on}} napon lejáró pontok: {{points}} {{points_word}}. Használja fel őket: "
        "egyenlege {{balance}} {{balance_word}}.{{#has_reward}} Beválthatja: {{reward_name}} "
        "({{reward_points}} {{reward_points_word}}).{{/has_reward}}"}},
      {{"reward_redeemed", "hu"},
       {"Az Ön jutalma: {{reward_name}}",
        "Beváltva: {{reward_name}} ({{points}} {{points_word}}). Utalványkód: {{voucher_codes}}"
        "{{#has_valid_until}}, érvényes: {{valid_until}}{{/has_valid_until}}."}},
      {{"voucher_used", "hu"},
       {"Utalvány felhasználva: {{voucher_code}}",
        "A(z) {{voucher_code}} utalványát felhasználták. Köszönjük!"}},
      {{"referral_rewarded", "hu"},
       {"Ajánlási bónusz: {{points}} {{points_word}}",
        "{{#is_referrer}}Ismerőse megtette első vásárlását.{{/is_referrer}}{{^is_referrer}}"
        "Köszönjük, hogy ismerőse ajánlásával csatlakozott.{{/is_referrer}} Jóváírtunk: "
        "{{points}} {{points_word}}."}},
      {{"milestone", "hu"},
       {"Új mérföldkő: {{title}}",
        "Új mérföldkövet ért el: {{title}}!{{#has_bonus}} Bónusz: {{bonus_points}} "
        "{{bonus_points_word}}.{{/has_bonus}}"}},
      {{"digest", "hu"}, {"{{count}} {{count_word}}", "Értesítései ({{count}}):\n{{items}}"}},
  };
  return table;
}

}  // namespace

v1::Template DefaultTemplate(const std::string& kind, const std::string& language) {
  const Table& table = Defaults();
  auto it = table.find({kind, language});
  std::string lang = language;
  if (it == table.end()) {
    it = table.find({kind, "en"});
    lang = "en";
  }
  v1::Template t;
  t.set_kind(kind);
  t.set_language(lang);
  t.set_source("default");
  if (it != table.end()) {
    t.set_subject(it->second.subject);
    t.set_body(it->second.body);
  }
  return t;
}

}  // namespace loyalty::notification
