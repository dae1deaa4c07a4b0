// Strong types for ids and quantities (in the manner of Redpanda's named_type): a Points
// cannot be added to a MinorUnits, nor a MemberId passed where a HoldId is meant. Each
// costs nothing at run time; value() leaves the type at the edges (protos, keys).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

namespace loyalty {

// A value of T that only compares with values of the same Tag.
template <typename T, typename Tag>
class NamedType {
 public:
  constexpr NamedType() = default;
  constexpr explicit NamedType(T value) : value_(std::move(value)) {}
  constexpr const T& value() const { return value_; }
  // clang-tidy 14 reads a defaulted <=> as a comparison with a literal 0.
  constexpr auto operator<=>(const NamedType&) const = default;  // NOLINT(modernize-use-nullptr)
  friend std::ostream& operator<<(std::ostream& out, const NamedType& v) { return out << v.value_; }

 private:
  T value_{};
};

// An integer amount that adds and subtracts only with amounts of its own kind.
template <typename Tag>
class Quantity : public NamedType<int64_t, Tag> {
 public:
  using NamedType<int64_t, Tag>::NamedType;
  constexpr Quantity operator+(Quantity o) const { return Quantity(this->value() + o.value()); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(this->value() - o.value()); }
  constexpr Quantity operator-() const { return Quantity(-this->value()); }
  constexpr Quantity& operator+=(Quantity o) { return *this = *this + o; }
  constexpr Quantity& operator-=(Quantity o) { return *this = *this - o; }
  constexpr bool positive() const { return this->value() > 0; }
  constexpr bool negative() const { return this->value() < 0; }
  constexpr bool zero() const { return this->value() == 0; }
};

template <typename Tag>
constexpr Quantity<Tag> Min(Quantity<Tag> a, Quantity<Tag> b) {
  return a < b ? a : b;
}
template <typename Tag>
constexpr Quantity<Tag> Max(Quantity<Tag> a, Quantity<Tag> b) {
  return a < b ? b : a;
}

using Points = Quantity<struct PointsTag>;
using MinorUnits = Quantity<struct MinorUnitsTag>;  // money, in the currency's minor units
using DurationMs = Quantity<struct DurationMsTag>;

// A moment, in milliseconds since the Unix epoch (UTC). Moments do not add; a moment plus
// a duration is a moment, and two moments differ by a duration.
class TimeMs : public NamedType<int64_t, struct TimeMsTag> {
 public:
  using NamedType::NamedType;
  constexpr TimeMs operator+(DurationMs d) const { return TimeMs(value() + d.value()); }
  constexpr TimeMs operator-(DurationMs d) const { return TimeMs(value() - d.value()); }
  constexpr DurationMs operator-(TimeMs o) const { return DurationMs(value() - o.value()); }
};

constexpr DurationMs Days(int64_t n) { return DurationMs(n * 86'400'000); }
constexpr DurationMs Seconds(int64_t n) { return DurationMs(n * 1'000); }

using MemberId = NamedType<std::string, struct MemberIdTag>;

}  // namespace loyalty

template <typename T, typename Tag>
struct std::hash<loyalty::NamedType<T, Tag>> {
  size_t operator()(const loyalty::NamedType<T, Tag>& v) const { return std::hash<T>()(v.value()); }
};
