#include "services/notification/core/i18n.h"

#include <gtest/gtest.h>

namespace loyalty::notification {
namespace {

TEST(PluralTest, EnglishAndHungarian) {
  EXPECT_EQ(PointsWord("en", 1), "point");
  EXPECT_EQ(PointsWord("en", 0), "points");
  EXPECT_EQ(PointsWord("en", 2), "points");
  EXPECT_EQ(PointsWord("en", 21), "points");
  EXPECT_EQ(PointsWord("en", -1), "point");
  for (int64_t n : {0, 1, 2, 5, 21, 1000}) EXPECT_EQ(PointsWord("hu", n), "pont") << n;
  EXPECT_EQ(PluralCategory("hu", 1), Plural::kOne);
  EXPECT_EQ(PluralCategory("hu", 2), Plural::kOther);
}

TEST(PluralTest, Ukrainian) {
  EXPECT_EQ(PointsWord("uk", 1), "бал");
  EXPECT_EQ(PointsWord("uk", 21), "бал");
  EXPECT_EQ(PointsWord("uk", 101), "бал");
  EXPECT_EQ(PointsWord("uk", 11), "балів");
  EXPECT_EQ(PointsWord("uk", 111), "балів");
  EXPECT_EQ(PointsWord("uk", 2), "бали");
  EXPECT_EQ(PointsWord("uk", 4), "бали");
  EXPECT_EQ(PointsWord("uk", 22), "бали");
  EXPECT_EQ(PointsWord("uk", 12), "балів");
  EXPECT_EQ(PointsWord("uk", 14), "балів");
  EXPECT_EQ(PointsWord("uk", 5), "балів");
  EXPECT_EQ(PointsWord("uk", 0), "балів");
  EXPECT_EQ(PointsWord("uk", 1000), "балів");
}

TEST(PluralTest, Russian) {
  EXPECT_EQ(PointsWord("ru", 1), "балл");
  EXPECT_EQ(PointsWord("ru", 31), "балл");
  EXPECT_EQ(PointsWord("ru", 3), "балла");
  EXPECT_EQ(PointsWord("ru", 13), "баллов");
  EXPECT_EQ(PointsWord("ru", 44), "балла");
  EXPECT_EQ(PointsWord("ru", 50), "баллов");
  EXPECT_EQ(PointsWord("ru", -2), "балла");
}

TEST(PluralTest, Polish) {
  EXPECT_EQ(PointsWord("pl", 1), "punkt");
  EXPECT_EQ(PointsWord("pl", 21), "punktów");  // unlike uk/ru: only 1 is singular
  EXPECT_EQ(PointsWord("pl", 2), "punkty");
  EXPECT_EQ(PointsWord("pl", 24), "punkty");
  EXPECT_EQ(PointsWord("pl", 12), "punktów");
  EXPECT_EQ(PointsWord("pl", 5), "punktów");
  EXPECT_EQ(PointsWord("pl", 0), "punktów");
  EXPECT_EQ(NotificationsWord("pl", 3), "powiadomienia");
}

TEST(DateTest, OffsetShiftsTheDay) {
  // 2026-01-01T23:30:00Z
  int64_t t = 1'767'225'600'000 + 23 * 3'600'000 + 30 * 60'000;
  EXPECT_EQ(FormatDate(t, 0), "2026-01-01");
  EXPECT_EQ(FormatDate(t, 120), "2026-01-02");
  EXPECT_EQ(FormatDate(t, -720), "2026-01-01");
  EXPECT_EQ(FormatDate(0, -60), "1969-12-31");
}

}  // namespace
}  // namespace loyalty::notification
