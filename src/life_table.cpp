// SPDX-License-Identifier: MIT
// LifeTable factories (validation, a(x) rules), single-year expansion and projection ratios.
#include "steppe/life_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

#include "single_year_columns.hpp"
#include "steppe/error.hpp"

namespace steppe {
namespace {

using Eigen::ArrayXd;
using Eigen::Index;

constexpr double inf = std::numeric_limits<double>::infinity();

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// Stan-style message: "<fn>: <arg>[<i>] = <v>, expected <what>".
[[noreturn]] void fail(const char* fn, const char* arg, Index i, double v,
                       const std::string& what) {
  throw domain_error(std::string(fn) + ": " + arg + "[" + std::to_string(i) + "] = " + num(v) +
                     ", expected " + what);
}

void check_ages(const char* fn, const ArrayXd& ages) {
  if (ages.size() < 2)
    throw domain_error(std::string(fn) + ": ages has " + std::to_string(ages.size()) +
                       " entries, expected at least 2 (one closed interval and the open one)");
  if (ages[0] != 0.0) fail(fn, "ages", 0, ages[0], "0 (tables start at birth)");
  for (Index i = 1; i < ages.size(); ++i) {
    if (!std::isfinite(ages[i]) || ages[i] != std::floor(ages[i]))
      fail(fn, "ages", i, ages[i], "a whole number of years");
    if (ages[i] <= ages[i - 1])
      fail(fn, "ages", i, ages[i],
           "more than ages[" + std::to_string(i - 1) + "] = " + num(ages[i - 1]) +
               " (strictly increasing)");
  }
}

void check_length(const char* fn, const char* arg, const ArrayXd& v, Index n) {
  if (v.size() != n)
    throw domain_error(std::string(fn) + ": " + arg + " has " + std::to_string(v.size()) +
                       " entries, expected " + std::to_string(n) + " (one per age)");
}

/// Widths of the closed intervals (N − 1).
ArrayXd closed_widths(const ArrayXd& ages) {
  const Index k = ages.size() - 1;
  return ages.tail(k) - ages.head(k);
}

/// Exact a for a constant hazard m over n years: n·(1/x − 1/(e^x − 1)), x = m·n.
double constant_hazard_a(double m, double n) {
  const double x = m * n;
  if (!std::isfinite(x)) return n / 2;  // q = 1 at once: no hazard to integrate, use midpoint
  if (x < 1e-4) return n * (0.5 - x / 12.0);
  return n * (1.0 / x - 1.0 / std::expm1(x));
}

/// Coale–Demeny a0 and 4a1 (see AxRule): from m0 (Preston et al. 2001) or q0 (CD 1983).
std::pair<double, double> coale_demeny_a0_a1(Sex sex, bool from_m, double v) {
  const bool male = sex == Sex::male;
  if (from_m) {
    if (v >= 0.107) return male ? std::pair{0.330, 1.352} : std::pair{0.350, 1.361};
    return male ? std::pair{0.045 + 2.684 * v, 1.651 - 2.816 * v}
                : std::pair{0.053 + 2.800 * v, 1.522 - 1.518 * v};
  }
  if (v >= 0.100) return male ? std::pair{0.330, 1.352} : std::pair{0.350, 1.361};
  return male ? std::pair{0.0425 + 2.875 * v, 1.653 - 3.013 * v}
              : std::pair{0.050 + 3.000 * v, 1.524 - 1.625 * v};
}

/// a(x) of the closed intervals. `m` holds the closed-interval hazards (used by
/// constant_hazard); `cd_from_m`/`cd_value` select the Coale–Demeny argument (m0 or q0).
ArrayXd closed_ax(const char* fn, const AxRule& rule, const ArrayXd& ages, const ArrayXd& m,
                  bool cd_from_m, double cd_value) {
  const ArrayXd n = closed_widths(ages);
  ArrayXd a = n / 2;
  switch (rule.kind()) {
    case AxRule::Kind::midpoint:
      break;
    case AxRule::Kind::coale_demeny: {
      const auto [a0, a1] = coale_demeny_a0_a1(rule.sex(), cd_from_m, cd_value);
      if (n[0] == 1) a[0] = a0;
      if (n.size() >= 2 && n[0] == 1 && n[1] == 4) a[1] = a1;
      break;
    }
    case AxRule::Kind::constant_hazard:
      for (Index i = 0; i < n.size(); ++i) a[i] = constant_hazard_a(m[i], n[i]);
      break;
    case AxRule::Kind::given: {
      const ArrayXd& g = rule.values();
      if (g.size() != ages.size() && g.size() != n.size())
        throw domain_error(std::string(fn) + ": ax has " + std::to_string(g.size()) +
                           " entries, expected " + std::to_string(ages.size()) + " or " +
                           std::to_string(n.size()));
      for (Index i = 0; i < n.size(); ++i) {
        if (!(g[i] > 0 && g[i] <= n[i]))
          fail(fn, "ax", i, g[i], "a value in (0, " + num(n[i]) + "] (the interval width)");
        a[i] = g[i];
      }
      break;
    }
  }
  return a;
}

void check_open_mx(const char* fn, std::optional<double> open_mx) {
  if (open_mx && !(std::isfinite(*open_mx) && *open_mx > 0))
    throw domain_error(std::string(fn) + ": open_mx = " + num(*open_mx) +
                       ", expected a finite rate > 0");
}

/// ratio in [0, 1]; 0 when nobody is alive in the denominator; clamped against rounding.
double ratio(double num_, double den) { return den > 0 ? std::clamp(num_ / den, 0.0, 1.0) : 0.0; }

}  // namespace

LifeTable LifeTable::build(ArrayXd ages, const ArrayXd& q_closed, const ArrayXd& a_closed,
                           std::optional<double> open_mx, const char* fn) {
  const Index N = ages.size(), k = N - 1;
  LifeTable t;
  t.n_.resize(N);
  t.n_.head(k) = closed_widths(ages);
  t.n_[k] = inf;
  t.age_ = std::move(ages);
  t.qx_.resize(N);
  t.qx_.head(k) = q_closed;
  t.qx_[k] = 1.0;
  t.ax_.resize(N);
  t.ax_.head(k) = a_closed;
  t.lx_.resize(N);
  t.lx_[0] = 1.0;
  for (Index i = 0; i < k; ++i) t.lx_[i + 1] = t.lx_[i] * (1.0 - t.qx_[i]);
  t.dx_ = t.lx_ * t.qx_;
  t.Lx_.resize(N);
  t.mx_.resize(N);
  for (Index i = 0; i < k; ++i) {
    const double n = t.n_[i], q = t.qx_[i], a = t.ax_[i];
    t.Lx_[i] = n * t.lx_[i + 1] + a * t.dx_[i];
    // Per survivor at x, L/l = n − (n − a)·q, so m is defined even where l(x) = 0.
    t.mx_[i] = t.Lx_[i] > 0 ? t.dx_[i] / t.Lx_[i] : q / (n - (n - a) * q);
  }
  const double m_open = open_mx ? *open_mx : t.mx_[k - 1];
  if (!(std::isfinite(m_open) && m_open > 0))
    throw domain_error(std::string(fn) +
                       ": the open-interval rate inferred from the last closed "
                       "interval is " +
                       num(m_open) + ", expected > 0; pass open_mx");
  t.mx_[k] = m_open;
  t.ax_[k] = 1.0 / m_open;
  t.Lx_[k] = t.lx_[k] / m_open;
  t.Tx_.resize(N);
  double acc = 0;
  for (Index i = k; i >= 0; --i) t.Tx_[i] = (acc += t.Lx_[i]);
  t.ex_ = (t.lx_ > 0).select(t.Tx_ / t.lx_, 0.0);
  return t;
}

LifeTable LifeTable::from_qx(ArrayXd ages, ArrayXd qx, const AxRule& rule,
                             std::optional<double> open_mx) {
  constexpr const char* fn = "LifeTable::from_qx";
  check_ages(fn, ages);
  check_length(fn, "qx", qx, ages.size());
  check_open_mx(fn, open_mx);
  const Index k = ages.size() - 1;
  for (Index i = 0; i < k; ++i)
    if (!(qx[i] >= 0 && qx[i] <= 1)) fail(fn, "qx", i, qx[i], "a probability in [0, 1]");
  const ArrayXd q = qx.head(k);
  const ArrayXd m = -(-q).log1p() / closed_widths(ages);  // constant-hazard rates
  const ArrayXd a = closed_ax(fn, rule, ages, m, false, q[0]);
  return build(std::move(ages), q, a, open_mx, fn);
}

LifeTable LifeTable::from_mx(ArrayXd ages, ArrayXd mx, const AxRule& rule) {
  constexpr const char* fn = "LifeTable::from_mx";
  check_ages(fn, ages);
  check_length(fn, "mx", mx, ages.size());
  const Index k = ages.size() - 1;
  for (Index i = 0; i < mx.size(); ++i)
    if (!(std::isfinite(mx[i]) && mx[i] >= 0)) fail(fn, "mx", i, mx[i], "a finite rate >= 0");
  if (!(mx[k] > 0)) fail(fn, "mx", k, mx[k], "a rate > 0 for the open interval");
  const ArrayXd m = mx.head(k), n = closed_widths(ages);
  const ArrayXd a = closed_ax(fn, rule, ages, m, true, m[0]);
  ArrayXd q(k);
  for (Index i = 0; i < k; ++i) {
    if (rule.kind() == AxRule::Kind::constant_hazard) {
      q[i] = -std::expm1(-n[i] * m[i]);
    } else {
      if (a[i] * m[i] > 1)
        fail(fn, "mx", i, m[i], "at most 1/a(x) = " + num(1 / a[i]) + " (else q(x) > 1)");
      q[i] = std::min(1.0, n[i] * m[i] / (1 + (n[i] - a[i]) * m[i]));
    }
  }
  return build(std::move(ages), q, a, mx[k], fn);
}

LifeTable LifeTable::from_lx(ArrayXd ages, ArrayXd lx, const AxRule& rule,
                             std::optional<double> open_mx) {
  constexpr const char* fn = "LifeTable::from_lx";
  check_ages(fn, ages);
  check_length(fn, "lx", lx, ages.size());
  check_open_mx(fn, open_mx);
  if (!(std::isfinite(lx[0]) && lx[0] > 0)) fail(fn, "lx", 0, lx[0], "a finite radix > 0");
  for (Index i = 1; i < lx.size(); ++i)
    if (!(lx[i] >= 0 && lx[i] <= lx[i - 1]))
      fail(fn, "lx", i, lx[i],
           "a value in [0, lx[" + std::to_string(i - 1) + "] = " + num(lx[i - 1]) +
               "] (non-increasing)");
  const Index k = ages.size() - 1;
  const ArrayXd l = lx / lx[0];
  ArrayXd q(k);
  for (Index i = 0; i < k; ++i) q[i] = l[i] > 0 ? std::clamp(1 - l[i + 1] / l[i], 0.0, 1.0) : 1.0;
  const ArrayXd m = -(-q).log1p() / closed_widths(ages);
  const ArrayXd a = closed_ax(fn, rule, ages, m, false, q[0]);
  return build(std::move(ages), q, a, open_mx, fn);
}

namespace {
/// Index of x among the strictly increasing `ages`, or −1. Single-year tables (ages 0, 1, …, ω,
/// recognised by ω = N − 1) are indexed directly; others by binary search.
Index age_index(const ArrayXd& ages, double x) {
  const Index n = ages.size();
  if (ages[n - 1] == double(n - 1)) {
    if (!(x >= 0 && x <= ages[n - 1]) || x != std::floor(x)) return -1;
    return Index(x);
  }
  const double* it = std::lower_bound(ages.data(), ages.data() + n, x);
  return it != ages.data() + n && *it == x ? Index(it - ages.data()) : -1;
}
}  // namespace

double LifeTable::T_at(double x) const {
  const double w = open_age();
  if (x == w) return Tx_[size() - 1];  // e^{−m·0} = 1
  if (x > w) return Tx_[size() - 1] * std::exp(-mx_[size() - 1] * (x - w));
  const Index i = age_index(age_, x);
  if (i < 0)
    throw domain_error("LifeTable::T_at: x = " + num(x) +
                       ", expected one of the table's ages or an age above the open age " + num(w));
  return Tx_[i];
}

bool LifeTable::has_boundaries(int width, int upto) const {
  if (age_[size() - 1] == double(size() - 1)) return true;  // single years: every age is one
  for (int x = 0; x <= upto; x += width)
    if (x < open_age() && age_index(age_, double(x)) < 0) return false;
  return true;
}

namespace {
/// The single-year q(x) and a(x), x < top, of a table with N ages `age` (the last one open, ω),
/// closed-interval q and a, and open rate m_open, for top ≥ ω (see to_single_year).
void single_year_q_a(const double* age, const double* qx, const double* ax, Index N,
                     double m_open, int top, double* q, double* a) {
  for (Index i = 0; i + 1 < N; ++i) {
    const int x = static_cast<int>(age[i]), n = static_cast<int>(age[i + 1] - age[i]);
    if (n == 1) {
      q[x] = qx[i], a[x] = ax[i];
    } else if (qx[i] < 1) {  // constant hazard mu over [x, x+n): ln l linear
      const double mu = -std::log1p(-qx[i]) / n;
      std::fill(q + x, q + x + n, -std::expm1(-mu));
      std::fill(a + x, a + x + n, constant_hazard_a(mu, 1.0));
    } else {  // everybody dies in the interval: l linear (uniform deaths) instead
      for (int j = 0; j < n; ++j) q[x + j] = 1.0 / (n - j), a[x + j] = 0.5;
    }
  }
  const int w = static_cast<int>(age[N - 1]);
  std::fill(q + w, q + top, -std::expm1(-m_open));
  std::fill(a + w, a + top, constant_hazard_a(m_open, 1.0));
}
}  // namespace

LifeTable LifeTable::to_single_year(int omega) const {
  constexpr const char* fn = "LifeTable::to_single_year";
  if (omega < 1)
    throw domain_error(std::string(fn) + ": omega = " + std::to_string(omega) + ", expected >= 1");
  const int w = static_cast<int>(open_age()), top = std::max(omega, w);
  const double m_open = mx_[size() - 1];
  ArrayXd q(top), a(top);
  single_year_q_a(age_.data(), qx_.data(), ax_.data(), size(), m_open, top, q.data(), a.data());
  ArrayXd ages = ArrayXd::LinSpaced(top + 1, 0, top);
  LifeTable full = build(ages, q, a, m_open, fn);
  if (omega >= w) return full;
  const double t_omega = full.Tx_[omega];
  const double m_new = t_omega > 0 ? full.lx_[omega] / t_omega : full.mx_[omega];
  return build(ages.head(omega + 1), q.head(omega), a.head(omega), m_new, fn);
}

Eigen::ArrayXd LifeTable::projection_survivorship(const AgeAxis& axis) const {
  if (axis.width < 1 || axis.count < 2)
    throw domain_error("LifeTable::projection_survivorship: axis = {width " +
                       std::to_string(axis.width) + ", count " + std::to_string(axis.count) +
                       "}, expected width >= 1 and count >= 2");
  const int w = axis.width, c = axis.count, top = axis.open_age() + w;
  if (!has_boundaries(w, top))
    return to_single_year(std::max(top, static_cast<int>(open_age())))
        .projection_survivorship(axis);
  ArrayXd T(c + 1);
  const bool single = age_[size() - 1] == double(size() - 1);  // T(x) = Tx_[x] up to ω
  for (int j = 0; j <= c; ++j)
    T[j] = single && j * w < size() ? Tx_[j * w] : T_at(double(j) * w);
  ArrayXd s(c);
  for (int i = 0; i + 2 < c; ++i) s[i] = ratio(T[i + 1] - T[i + 2], T[i] - T[i + 1]);
  s[c - 2] = ratio(T[c - 1], T[c - 2]);  // [O−w, O) → O+: T(O)/T(O−w)
  s[c - 1] = ratio(T[c], T[c - 1]);      // O+ stays: T(O+w)/T(O)
  return s;
}

double LifeTable::birth_survivorship(int width) const {
  if (width < 1)
    throw domain_error("LifeTable::birth_survivorship: width = " + std::to_string(width) +
                       ", expected >= 1");
  if (!has_boundaries(width, width))
    return to_single_year(std::max(width, static_cast<int>(open_age()))).birth_survivorship(width);
  return (Tx_[0] - T_at(width)) / (width * lx_[0]);
}

// ---- single-year columns without a LifeTable (src/single_year_columns.hpp) ----
// Each function repeats, operation for operation, what LifeTable's code above does for the
// numbers it computes (so the same bits), and skips the columns nobody reads here (q, d, m, e).

void detail::copy_columns(const LifeTable& table, SingleYearColumns& out) {
  out.lx = table.lx();
  out.Lx = table.Lx();
  out.Tx = table.Tx();
  out.open_mx = table.mx()[table.size() - 1];
}

void detail::single_year_columns(const double* ages, const double* q_closed,
                                 const double* a_closed, Index N, double m_open, int omega,
                                 SingleYearColumns& out) {
  // to_single_year(omega) with omega ≥ ω: the single-year q and a, then build() on ages 0..omega
  // (widths 1) with the same open rate.
  const Index k = omega;  // the open age, and the number of closed ages
  out.q.resize(k);
  out.a.resize(k);
  single_year_q_a(ages, q_closed, a_closed, N, m_open, omega, out.q.data(), out.a.data());
  out.lx.resize(k + 1);
  out.Lx.resize(k + 1);
  out.Tx.resize(k + 1);
  double* l = out.lx.data();
  double* L = out.Lx.data();
  const double* q = out.q.data();
  const double* a = out.a.data();
  // Survivors, then person-years lived in each year of age: n·l(x+1) + a(x)·d(x), n = 1.
  l[0] = 1.0;
  for (Index i = 0; i < k; ++i) l[i + 1] = l[i] * (1.0 - q[i]);
  for (Index i = 0; i < k; ++i) L[i] = 1.0 * l[i + 1] + a[i] * (l[i] * q[i]);
  L[k] = l[k] / m_open;  // the open interval: l(ω)/m(ω+)
  double acc = 0;
  for (Index i = k; i >= 0; --i) out.Tx[i] = (acc += L[i]);
  out.open_mx = m_open;
}

namespace {
/// LifeTable::T_at(x) for x a whole age ≥ 0 of a single-year table's columns.
double T_at(const detail::SingleYearColumns& t, int x) {
  const Index w = t.Tx.size() - 1;
  if (x == w) return t.Tx[w];
  if (x > w) return t.Tx[w] * std::exp(-t.open_mx * double(x - w));
  return t.Tx[x];
}
}  // namespace

void detail::projection_survivorship(const SingleYearColumns& t, const AgeAxis& axis,
                                     ArrayXd& out) {
  const int w = axis.width, c = axis.count;
  const Index size = t.Tx.size();
  out.resize(c);
  if (Index(c) * w < size && w == 1) {  // single-year cells inside the table: T(j) = Tx[j]
    const double* T = t.Tx.data();
    for (int i = 0; i + 2 < c; ++i) out[i] = ratio(T[i + 1] - T[i + 2], T[i] - T[i + 1]);
    out[c - 2] = ratio(T[c - 1], T[c - 2]);
    out[c - 1] = ratio(T[c], T[c - 1]);
    return;
  }
  // T at the cell boundaries 0, w, 2w, …, (c)·w: straight from the table below its size.
  auto T = [&](int j) { return Index(j) * w < size ? t.Tx[Index(j) * w] : T_at(t, j * w); };
  for (int i = 0; i + 2 < c; ++i) out[i] = ratio(T(i + 1) - T(i + 2), T(i) - T(i + 1));
  out[c - 2] = ratio(T(c - 1), T(c - 2));  // [O−w, O) → O+: T(O)/T(O−w)
  out[c - 1] = ratio(T(c), T(c - 1));      // O+ stays: T(O+w)/T(O)
}

double detail::birth_survivorship(const SingleYearColumns& t, int width) {
  return (t.Tx[0] - T_at(t, width)) / (width * t.lx[0]);
}

}  // namespace steppe
