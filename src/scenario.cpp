// SPDX-License-Identifier: MIT
// Scenario: loading (through the parser in src/io/scenario_json.cpp), sampling, and building one
// draw's engine inputs. Conventions (documented in scenarios/README.md):
//   - a step's value of a time series is the series' mean over the step's span;
//   - rates per year become probabilities per step as 1 − (1 − p)^width; counts per year are
//     multiplied by width; a signed net-migration rate per year is multiplied by width;
//   - excess mortality: hazard multiplier m(x, s) = 1 + intensity · (RR(x, s) − 1), applied as
//     S^m (shock.hpp); components that are zero in a step are left absent (so steps without a
//     crisis are shared by the crisis run and its counterfactual).
#include <algorithm>
#include <cmath>
#include <limits>
#include <fstream>
#include <sstream>
#include <bit>
#include <cstdint>
#include <cstring>

#include "io/extends.hpp"
#include "scenario_impl.hpp"
#include "steppe/fertility.hpp"

namespace steppe::detail {

std::shared_ptr<Scenario::Impl> parse_scenario(ResolvedJson doc, const std::string& file,
                                               const std::vector<std::string>& overrides);

double Series::mean(std::span<const double> v, double t0, double t1) const noexcept {
  const double scale_value = scale >= 0 ? v[std::size_t(scale)] : 1.0;
  const std::size_t n = values.size();
  auto y = [&](std::size_t i) { return v[std::size_t(values[i])]; };
  if (n == 1) return y(0) * scale_value;
  auto at = [&](double t) {
    if (t <= years.front()) return y(0);
    if (t >= years.back()) return y(n - 1);
    std::size_t i = 1;
    while (years[i] < t) ++i;
    const double w = (t - years[i - 1]) / (years[i] - years[i - 1]);
    return y(i - 1) + (y(i) - y(i - 1)) * w;
  };
  double area = 0.0, a = t0, va = at(t0);
  for (std::size_t i = 0; i < n; ++i) {
    if (years[i] <= t0) continue;
    if (years[i] >= t1) break;
    area += 0.5 * (va + y(i)) * (years[i] - a);
    a = years[i];
    va = y(i);
  }
  area += 0.5 * (va + at(t1)) * (t1 - a);
  return area / (t1 - t0) * scale_value;
}

double Series::mean_planned(std::span<const double> v, std::size_t k, double t0,
                            double t1) const noexcept {
  if (k >= plans.size()) return mean(v, t0, t1);
  const double scale_value = scale >= 0 ? v[std::size_t(scale)] : 1.0;
  const StepPlan& p = plans[k];
  auto at = [&](int a, int b, bool interp, double w) {
    const double yb = v[std::size_t(b)];
    if (!interp) return yb;
    const double ya = v[std::size_t(a)];
    return ya + (yb - ya) * w;
  };
  const double* dt = plan_dt.data() + p.dt;
  const int* index = plan_index.data() + p.dt;
  const int m = p.hi - p.lo;
  double area = 0.0, va = at(p.p0a, p.p0b, p.interp0, p.w0);
  for (int j = 0; j < m; ++j) {
    const double yi = v[std::size_t(index[j])];
    area += 0.5 * (va + yi) * dt[j];
    va = yi;
  }
  area += 0.5 * (va + at(p.p1a, p.p1b, p.interp1, p.w1)) * dt[m];
  return area / p.span * scale_value;
}

void Series::plan_steps(std::span<const StepTime> steps) {
  plans.clear();
  plan_dt.clear();
  plan_index.clear();
  const std::size_t n = values.size();
  single = n == 1 ? values[0] : -1;
  if (n <= 1) return;  // (mean_at_step needs no plan)
  auto at = [&](double t, int& index, bool& interp, double& w) {
    interp = false;
    w = 0;
    if (t <= years.front()) return void(index = 0);
    if (t >= years.back()) return void(index = int(n - 1));
    std::size_t i = 1;
    while (years[i] < t) ++i;
    index = int(i);
    interp = true;
    w = (t - years[i - 1]) / (years[i] - years[i - 1]);
  };
  for (const StepTime& st : steps) {
    const double t0 = st.start, t1 = st.end;
    StepPlan p;
    at(t0, p.i0, p.interp0, p.w0);
    at(t1, p.i1, p.interp1, p.w1);
    std::size_t lo = 0;  // the points strictly inside (t0, t1), as mean() walks them
    while (lo < n && years[lo] <= t0) ++lo;
    std::size_t hi = lo;
    while (hi < n && years[hi] < t1) ++hi;
    p.lo = int(lo);
    p.hi = int(hi);
    p.dt = plan_dt.size();
    double a = t0;
    for (std::size_t i = lo; i < hi; ++i) {
      plan_dt.push_back(years[i] - a);
      plan_index.push_back(values[i]);
      a = years[i];
    }
    plan_dt.push_back(t1 - a);
    plan_index.push_back(-1);  // (keeps plan_index parallel to plan_dt)
    p.p0b = values[std::size_t(p.i0)];
    p.p0a = p.interp0 ? values[std::size_t(p.i0 - 1)] : p.p0b;
    p.p1b = values[std::size_t(p.i1)];
    p.p1a = p.interp1 ? values[std::size_t(p.i1 - 1)] : p.p1b;
    p.span = t1 - t0;
    plans.push_back(p);
  }
}

// GCC vector extensions: lanes of 2 (SSE2 on x86-64, NEON or scalar code elsewhere) or 4 (the
// AVX2 build below). Every lane sees the same operations, without fused multiply-adds, so both
// builds give the same bits. The helpers are inlined in this file only: no ABI is involved.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

using Vec2 = double __attribute__((vector_size(16)));
using Int2 = std::int64_t __attribute__((vector_size(16)));
using Vec4 = double __attribute__((vector_size(32)));
using Int4 = std::int64_t __attribute__((vector_size(32)));

/// e^x in every lane of x, all |x| ≤ 708 (see exp_array).
template <class V, class I>
[[gnu::always_inline]] inline V exp_lanes(V x) {
  constexpr double inv_ln2 = 1.4426950408889634;
  constexpr double shifter = 6755399441055744.0;            // 1.5·2^52: + rounds to an integer
  constexpr double ln2_hi = 6.93147180369123816490e-01;     // 21 trailing zero bits: k·ln2_hi exact
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const V t = x * inv_ln2 + shifter;  // k in the low mantissa bits
  const V k = t - shifter;
  const V r = (x - k * ln2_hi) - k * ln2_lo;
  // e^r = 1 + 2·r·P(r²)/(Q(r²) − r·P(r²)), the Padé form of Cephes' exp (Moshier 1984;
  // relative error below 2.3e-16 for |r| ≤ ln 2/2), with its coefficients.
  const V rr = r * r;
  const V px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                    9.99999999999999999910e-1);
  const V qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
  const V p = 1.0 + 2.0 * (px / (qx - px));
  // 2^k: k + 1023 into the exponent field (|k| ≤ 1022, so a normal number).
  const I bits = (std::bit_cast<I>(t) + 1023) << 52;
  return p * std::bit_cast<V>(bits);
}

/// e^x in every lane: exp_lanes where |x| ≤ 708, std::exp elsewhere (NaN included), so each
/// lane's value depends on that lane's x only.
template <class V, class I>
[[gnu::always_inline]] inline V exp_packet(V x) {
  constexpr int lanes = sizeof(V) / sizeof(double);
  const auto ok = (x >= -708.0) & (x <= 708.0);
  bool all = true;
  for (int l = 0; l < lanes; ++l) all = all && ok[l] != 0;
  if (all) return exp_lanes<V, I>(x);
  V e = exp_lanes<V, I>(ok ? x : V{});
  for (int l = 0; l < lanes; ++l)
    if (!ok[l]) e[l] = std::exp(x[l]);
  return e;
}

/// exp_packet over the whole packets of x[0, n); returns how many elements were done.
template <class V, class I>
[[gnu::always_inline]] inline Eigen::Index exp_packets(const double* x, double* out,
                                                       Eigen::Index n) {
  constexpr Eigen::Index lanes = sizeof(V) / sizeof(double);
  Eigen::Index i = 0;
  for (; i + lanes <= n; i += lanes) {
    V v;
    std::memcpy(&v, x + i, sizeof(V));
    v = exp_packet<V, I>(v);
    std::memcpy(out + i, &v, sizeof(V));
  }
  return i;
}

/// The crisis survivorship of one column over whole packets of [0, n): m = 1 + I·(RR − 1),
/// out = S > 0 ? e^{m·ln S} : 0, each element by the same operations as the unfused
/// multiplier, product, exp_array and select (same bits). Returns how many elements were done;
/// `negative` becomes true if some m < 0.
template <class V, class I>
[[gnu::always_inline]] inline Eigen::Index crisis_packets(double intensity, const double* rr,
                                                        const double* log_s, const double* s,
                                                        double* out, double* out2,
                                                        Eigen::Index n, bool& negative) {
  constexpr Eigen::Index lanes = sizeof(V) / sizeof(double);
  // First m·ln S into out, noting whether every one is in exp_lanes' range (one test for the
  // column rather than one per packet), then e^x in place and the select.
  I neg{}, ok = ~I{};
  Eigen::Index i = 0;
  for (; i + lanes <= n; i += lanes) {
    V r, l;
    std::memcpy(&r, rr + i, sizeof(V));
    std::memcpy(&l, log_s + i, sizeof(V));
    const V m = 1.0 + intensity * (r - 1.0);
    neg |= m < 0.0;
    const V x = m * l;
    ok &= (x >= -708.0) & (x <= 708.0);
    std::memcpy(out + i, &x, sizeof(V));
  }
  bool all = true;
  for (Eigen::Index l = 0; l < lanes; ++l) all = all && ok[l] != 0;
  for (Eigen::Index j = 0; j < i; j += lanes) {
    V x, sv;
    std::memcpy(&x, out + j, sizeof(V));
    std::memcpy(&sv, s + j, sizeof(V));
    const V e = all ? exp_lanes<V, I>(x) : exp_packet<V, I>(x);
    const V o = sv > 0.0 ? e : V{};
    std::memcpy(out + j, &o, sizeof(V));
    if (out2) std::memcpy(out2 + j, &o, sizeof(V));
  }
  for (Eigen::Index l = 0; l < lanes; ++l) negative |= neg[l] != 0;
  return i;
}

/// ln max(s, DBL_MIN) in every lane, by the operations of Eigen's plog_impl_double (the
/// Cephes rational approximation, unfused, as Eigen's SSE2 Packet2d evaluates it), for lanes
/// whose s ≤ DBL_MAX (no NaN, no +∞): then max(s, DBL_MIN) is a positive normal number and
/// Eigen's frexp and final selects reduce to what is written here.
template <class V, class I>
[[gnu::always_inline]] inline V log_floor_lanes(V s) {
  constexpr double min_norm = std::numeric_limits<double>::min();
  const V a = s > min_norm ? s : V{} + min_norm;  // (≥ DBL_MIN, not NaN: the max either way)
  const I bits = std::bit_cast<I>(a);
  const I exp_mask = I{} + std::int64_t(0x7ff0000000000000ull);
  const V biased = __builtin_convertvector((bits & exp_mask) >> 52, V);
  V x = std::bit_cast<V>((bits & ~exp_mask) | std::bit_cast<I>(V{} + 0.5));
  V e = biased + -1022.0;
  const I mask = x < 0.70710678118654752440E0;
  const V tmp = std::bit_cast<V>(std::bit_cast<I>(x) & mask);
  x = x - 1.0;
  e = e - std::bit_cast<V>(std::bit_cast<I>(V{} + 1.0) & mask);
  x = x + tmp;
  const V x2 = x * x;
  const V x3 = x2 * x;
  V y = 1.01875663804580931796E-4 * x + 4.97494994976747001425E-1;
  V y1 = 1.44989225341610930846E1 * x + 1.79368678507819816313E1;
  y = y * x + 4.70579119878881725854E0;
  y1 = y1 * x + 7.70838733755885391666E0;
  V y_ = y * x3 + y1;
  y = 1.0 * x + 1.12873587189167450590E1;
  y1 = 8.29875266912776603211E1 * x + 7.11544750618563894466E1;
  y = y * x + 4.52279145837532221105E1;
  y1 = y1 * x + 2.31251620126765340583E1;
  y = y * x3 + y1;
  y_ = y_ * x3;
  y = y_ / y;
  y = -0.5 * x2 + y;
  x = x + y;
  return e * static_cast<double>(EIGEN_LN2) + x;
}

/// log_floor_lanes over the whole packets of s[0, n); returns how many elements were done, or
/// −1 if some s is NaN or +∞ (out is then partly written).
template <class V, class I>
[[gnu::always_inline]] inline Eigen::Index log_floor_packets(const double* s, double* out,
                                                             Eigen::Index n) {
  constexpr Eigen::Index lanes = sizeof(V) / sizeof(double);
  I ok = ~I{};
  Eigen::Index i = 0;
  for (; i + lanes <= n; i += lanes) {
    V v;
    std::memcpy(&v, s + i, sizeof(V));
    ok &= v <= std::numeric_limits<double>::max();
    v = log_floor_lanes<V, I>(v);
    std::memcpy(out + i, &v, sizeof(V));
  }
  for (Eigen::Index l = 0; l < lanes; ++l)
    if (!ok[l]) return -1;
  return i;
}

/// dst[i] = a·src[i] (or src[i]/a), i < n: plain loops the compiler vectorises, one rounding
/// per element whatever the vector width.
[[gnu::always_inline]] inline void scale_loop(double a, const double* src, double* dst,
                                              Eigen::Index n) {
  for (Eigen::Index i = 0; i < n; ++i) dst[i] = a * src[i];
}

[[gnu::always_inline]] inline void divide_loop(double a, double* x, Eigen::Index n) {
  for (Eigen::Index i = 0; i < n; ++i) x[i] = x[i] / a;
}

#if defined(__x86_64__)
[[gnu::target("avx2")]] void scale_avx2(double a, const double* src, double* dst,
                                        Eigen::Index n) {
  scale_loop(a, src, dst, n);
}

[[gnu::target("avx2")]] void divide_avx2(double a, double* x, Eigen::Index n) {
  divide_loop(a, x, n);
}

[[gnu::target("avx2")]] Eigen::Index log_floor_packets_avx2(const double* s, double* out,
                                                           Eigen::Index n) {
  return log_floor_packets<Vec4, Int4>(s, out, n);
}

[[gnu::target("avx2")]] Eigen::Index exp_packets_avx2(const double* x, double* out,
                                                     Eigen::Index n) {
  return exp_packets<Vec4, Int4>(x, out, n);
}

[[gnu::target("avx2")]] Eigen::Index crisis_packets_avx2(double intensity, const double* rr,
                                                        const double* log_s, const double* s,
                                                        double* out, double* out2,
                                                        Eigen::Index n, bool& negative) {
  return crisis_packets<Vec4, Int4>(intensity, rr, log_s, s, out, out2, n, negative);
}

bool cpu_has_avx2() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#endif

}  // namespace

void exp_array(const double* x, double* out, Eigen::Index n) noexcept {
  Eigen::Index i = 0;
#if defined(__x86_64__)
  static const bool avx2 = cpu_has_avx2();
  if (avx2) i = exp_packets_avx2(x, out, n);
#endif
  i += exp_packets<Vec2, Int2>(x + i, out + i, n - i);
  if (i < n) {  // the last element of an odd count, in a packet of its own
    const Vec2 e = exp_packet<Vec2, Int2>(Vec2{x[i], 0.0});
    out[i] = e[0];
  }
}

void scale_array(double a, const double* src, double* dst, Eigen::Index n) noexcept {
#if defined(__x86_64__)
  static const bool avx2 = cpu_has_avx2();
  if (avx2) return scale_avx2(a, src, dst, n);
#endif
  scale_loop(a, src, dst, n);
}

void divide_array(double a, double* x, Eigen::Index n) noexcept {
#if defined(__x86_64__)
  static const bool avx2 = cpu_has_avx2();
  if (avx2) return divide_avx2(a, x, n);
#endif
  divide_loop(a, x, n);
}

void log_floor(const Eigen::ArrayXd& s, Eigen::ArrayXd& out) {
  const Eigen::Index n = s.size();
  out.resize(n);
  // Eigen evaluates the expression in Packet2d from the (aligned) start and the odd last
  // element by std::log; every lane's value depends on its own s alone.
  const Eigen::Index whole = n - n % 2;
  Eigen::Index i = 0;
#if defined(__x86_64__)
  static const bool avx2 = cpu_has_avx2();
  if (avx2) i = log_floor_packets_avx2(s.data(), out.data(), whole);
#endif
  if (i >= 0) {
    const Eigen::Index j = log_floor_packets<Vec2, Int2>(s.data() + i, out.data() + i, whole - i);
    if (j >= 0 && whole == n) return;
    if (j >= 0 && s[n - 1] <= std::numeric_limits<double>::max()) {
      out[n - 1] = std::log(std::max(s[n - 1], std::numeric_limits<double>::min()));
      return;
    }
  }
  out = s.max(std::numeric_limits<double>::min()).log();  // NaN or +∞ somewhere: Eigen's own
}

bool crisis_column(double intensity, const double* rr, const double* log_s, const double* s,
                   double* out, Eigen::Index n, double* out2) noexcept {
  bool negative = false;
  Eigen::Index i = 0;
#if defined(__x86_64__)
  static const bool avx2 = cpu_has_avx2();
  if (avx2) i = crisis_packets_avx2(intensity, rr, log_s, s, out, out2, n, negative);
#endif
  i += crisis_packets<Vec2, Int2>(intensity, rr + i, log_s + i, s + i, out + i,
                                  out2 ? out2 + i : nullptr, n - i, negative);
  if (i < n) {  // the last element of an odd count, in a packet of its own
    const double m = 1.0 + intensity * (rr[i] - 1.0);
    negative |= m < 0.0;
    const Vec2 e = exp_packet<Vec2, Int2>(Vec2{m * log_s[i], 0.0});
    out[i] = s[i] > 0.0 ? e[0] : 0.0;
    if (out2) out2[i] = out[i];
  }
  return negative;
}

}  // namespace steppe::detail

namespace steppe {

using detail::Series;

namespace {

[[noreturn]] void fail_at(const Series& s, const std::string& reason) {
  throw domain_error(s.file + ":" + s.pointer + ": " + reason);
}

std::string num(double x) {
  std::ostringstream s;
  s.precision(6);
  s << x;
  return s.str();
}

/// Probability over a step of `width` years from a probability per year.
double per_step(double p_year, int width) {
  return width == 1 ? p_year : 1.0 - std::pow(1.0 - p_year, width);
}

/// Baseline life table of one group and sex over [t0, t1].
LifeTable life_table(const detail::MortalitySpec& m, int sex, std::span<const double> v,
                     std::size_t k, double t0, double t1) {
  using Kind = detail::MortalitySpec::Kind;
  switch (m.kind) {
    case Kind::coale_demeny: {
      const Series& s = m.e0[std::size_t(sex)];
      const double e0 = s.mean(v, t0, t1);
      try {
        return coale_demeny_e0(m.family, Sex(sex), e0);
      } catch (const domain_error& e) {
        fail_at(s, "e0 = " + num(e0) + ": " + e.what());
      }
    }
    case Kind::brass: {
      const Series& a = m.alpha[std::size_t(sex)];
      const Series& b = m.beta[std::size_t(sex)];
      const double alpha = a.mean(v, t0, t1);
      const double beta = b.empty() ? 1.0 : b.mean(v, t0, t1);
      try {
        return brass_logit(*m.table[std::size_t(sex)], alpha, beta);
      } catch (const domain_error& e) {
        fail_at(a, "alpha = " + num(alpha) + ", beta = " + num(beta) + ": " + e.what());
      }
    }
    case Kind::life_table:
      if (!m.step_table.empty())
        return m.step_tables[std::size_t(sex)][std::size_t(m.step_table[k])];
      break;
  }
  return *m.table[std::size_t(sex)];
}

/// What determines a group-sex's baseline life table in a step (to reuse it across steps).
std::array<double, 2> mortality_key(const detail::MortalitySpec& m, int sex,
                                    std::span<const double> v, std::size_t k, double t0,
                                    double t1) {
  using Kind = detail::MortalitySpec::Kind;
  if (m.kind == Kind::coale_demeny) return {m.e0[std::size_t(sex)].mean_at_step(v, k, t0, t1), 0.0};
  if (m.kind == Kind::brass)
    return {m.alpha[std::size_t(sex)].mean_at_step(v, k, t0, t1),
            m.beta[std::size_t(sex)].empty() ? 1.0 : m.beta[std::size_t(sex)].mean_at_step(v, k, t0, t1)};
  // An explicit table: the same in every step, or the step's table of a time series.
  return {m.step_table.empty() ? 0.0 : double(m.step_table[k]), 0.0};
}

/// The table on single years up to at least the axis' open age + one step: what
/// LifeTable::projection_survivorship converts to anyway, done once so it also serves the stable
/// population.
LifeTable single_year_table(const LifeTable& lt, const AgeAxis& axis) {
  const int upto = std::max(axis.open_age() + axis.width, int(lt.open_age()));
  bool single = int(lt.open_age()) >= upto;
  for (Eigen::Index i = 0; single && i + 1 < lt.size(); ++i) single = lt.n()[i] == 1.0;
  return single ? lt : lt.to_single_year(upto);
}

/// The columns of single_year_table(life_table(m, sex, v, k, t0, t1), axis) into `out`; `key` is
/// mortality_key(m, sex, v, k, t0, t1). A Coale–Demeny table by e0 (the usual uncertain baseline,
/// rebuilt in every draw) goes straight into out's storage without a LifeTable (same bits).
void single_year_columns(const detail::MortalitySpec& m, int sex, std::span<const double> v,
                         std::size_t k, double t0, double t1, const std::array<double, 2>& key,
                         const AgeAxis& axis, detail::SingleYearColumns& out) {
  if (m.kind == detail::MortalitySpec::Kind::coale_demeny &&
      detail::coale_demeny_e0_single_year(m.family, Sex(sex), key[0],
                                          axis.open_age() + axis.width, out))
    return;
  detail::copy_columns(single_year_table(life_table(m, sex, v, k, t0, t1), axis), out);
}

/// Stable-population age weights from a single-year table: person-years L(y)·e^{−r(y+½)} summed
/// over the single years of each cell; the open cell T(O)·e^{−r(O + e(O)/2)}. Into m.stable_weights;
/// the discount factors e^{−r(y+½)} are kept in m while r stays the same.
void stable_weights(const detail::SingleYearColumns& single, const AgeAxis& axis, double r,
                    detail::BuildCache::Column& m) {
  const int open = axis.open_age();
  if (!m.discount_valid || !(m.discount_rate == r)) {
    m.discount.resize(open);
    for (int y = 0; y < open; ++y) m.discount[y] = std::exp(-r * (y + 0.5));
    m.discount_rate = r;
    m.discount_valid = true;
  }
  Eigen::ArrayXd& w = m.stable_weights;
  w.resize(axis.count);
  const double* L = single.Lx.data();
  for (int cell = 0; cell < axis.count - 1; ++cell) {
    double sum = 0;
    for (int y = axis.lower(cell); y < axis.lower(cell) + axis.width; ++y) sum += L[y] * m.discount[y];
    w[cell] = sum;
  }
  const double t_open = single.Tx[open];
  const double l_open = single.lx[open];
  const double e_open = l_open > 0 ? t_open / l_open : 0.0;
  w[axis.count - 1] = t_open * std::exp(-r * (open + 0.5 * e_open));
}

/// (x < bound).any() and (x > bound).any(), NaN comparing false either way: plain loops over
/// the column, which the compiler vectorises (Eigen's minCoeff<PropagateNumbers> calls an
/// out-of-line pmin per packet).
template <class X>
bool any_below(const Eigen::DenseBase<X>& x, double bound) {
  const auto& d = x.derived();
  bool any = false;
  for (Eigen::Index i = 0, n = d.size(); i < n; ++i) any |= d.coeff(i) < bound;
  return any;
}

template <class X>
bool any_above(const Eigen::DenseBase<X>& x, double bound) {
  const auto& d = x.derived();
  bool any = false;
  for (Eigen::Index i = 0, n = d.size(); i < n; ++i) any |= d.coeff(i) > bound;
  return any;
}

void shape_or_empty(Eigen::ArrayXXd& a, Eigen::Index rows, Eigen::Index cols, bool present) {
  if (present) a.resize(rows, cols);
  else a.resize(0, 0);
}

bool has_shape(const Eigen::ArrayXXd& a, Eigen::Index rows, Eigen::Index cols, bool present) {
  return present ? a.rows() == rows && a.cols() == cols : a.size() == 0;
}

/// dst = src for a column of n doubles: std::memcpy, whose library version moves wider vectors
/// than Eigen's SSE2 loop (the same bits: a copy).
template <class D, class S>
inline void copy_column(D&& dst, const S& src) {
  STEPPE_ASSERT(dst.size() == src.size());
  std::memcpy(dst.data(), src.data(), std::size_t(src.size()) * sizeof(double));
}

/// dst = a·src for a column (the bits of Eigen's a * src, in wider vectors where the CPU has
/// AVX2).
template <class D, class S>
inline void scale_column(D&& dst, double a, const S& src) {
  STEPPE_ASSERT(dst.size() == src.size());
  detail::scale_array(a, src.data(), dst.data(), src.size());
}

constexpr double unknown = std::numeric_limits<double>::quiet_NaN();
/// The key of a crisis-flow column that holds zeros (written keys have 0 last).
constexpr detail::BuildCache::Key zero_flow{0.0, 0.0, 1.0};

/// Marks every column of `keys` (n of them) as unknown: the next build rewrites it.
void forget(std::vector<detail::BuildCache::Key>& keys, Eigen::Index n) {
  keys.assign(std::size_t(n), {unknown, unknown, unknown});
}

/// True (and `stored` becomes `key`) if the column whose last write came from `stored` must be
/// written now. NaN keys never match.
/// (Element by element, with scalar loads and stores: a key assembled in a vector register from
/// parts of others made the stores of `stored` wait on a failed store-to-load forwarding.)
[[gnu::always_inline]] inline bool changed(detail::BuildCache::Key& stored, double k0, double k1,
                                           double k2) {
  if (stored[0] == k0 && stored[1] == k1 && stored[2] == k2) return false;
  stored[0] = k0;
  stored[1] = k1;
  stored[2] = k2;
  return true;
}

[[gnu::always_inline]] inline bool changed(detail::BuildCache::Key& stored,
                                           const detail::BuildCache::Key& key) {
  return changed(stored, key[0], key[1], key[2]);
}

}  // namespace

namespace {

/// Series::plan_steps for every series build() reads, and what sample() takes from the
/// parameters.
std::shared_ptr<Scenario::Impl> plan_series(std::shared_ptr<Scenario::Impl> impl) {
  Scenario::Impl& s = *impl;
  for (std::size_t g = 0; g < s.groups.size(); ++g)
    detail::for_each_series(s.groups[g], s.crisis[g], [&s](Series& x) { x.plan_steps(s.steps); });
  s.constant_values.assign(s.parameters.size(), 0.0);
  s.random_parameters.clear();
  for (std::size_t k = 0; k < s.parameters.size(); ++k) {
    if (s.parameters[k].distribution.is_constant())
      s.constant_values[k] = s.parameters[k].distribution.mean();
    else
      s.random_parameters.push_back(k);
  }
  return impl;
}

}  // namespace

Scenario Scenario::load(const std::filesystem::path& file,
                        const std::vector<std::string>& overrides) {
  detail::ResolvedJson doc;
  try {
    doc = detail::load_with_extends(file);
  } catch (const scenario_errors&) {
    throw;
  } catch (const input_error& e) {
    throw scenario_errors({e});
  }
  return Scenario(plan_series(detail::parse_scenario(std::move(doc), file.string(), overrides)));
}

Scenario Scenario::parse(const std::string& json_text, const std::filesystem::path& file,
                         const std::vector<std::string>& overrides) {
  detail::ResolvedJson doc;
  try {
    doc = detail::resolve_text(json_text, file);
  } catch (const input_error& e) {
    throw scenario_errors({e});
  }
  return Scenario(plan_series(detail::parse_scenario(std::move(doc), file.string(), overrides)));
}

const std::string& Scenario::file() const noexcept { return impl_->file; }
const ScenarioMeta& Scenario::meta() const noexcept { return impl_->meta; }
const Dims& Scenario::dims() const noexcept { return impl_->dims; }
const ProjectorOptions& Scenario::projector_options() const noexcept { return impl_->options; }
std::span<const StepTime> Scenario::steps() const noexcept { return impl_->steps; }
std::span<const Parameter> Scenario::parameters() const noexcept { return impl_->parameters; }
std::span<const Target> Scenario::targets() const noexcept { return impl_->targets; }
const OutputSpec& Scenario::outputs() const noexcept { return impl_->outputs; }

std::span<const std::string> Scenario::derived_outputs() const noexcept {
  return impl_->derived_outputs;
}

bool Scenario::has_uncertainty() const noexcept {
  for (const Parameter& p : impl_->parameters)
    if (!p.distribution.is_constant()) return true;
  return false;
}

void Scenario::sample(std::uint64_t seed, std::uint64_t draw, std::vector<double>& values) const {
  const auto& ps = impl_->parameters;
  // The constants' means were taken at load (plan_series); the others are drawn.
  values.assign(impl_->constant_values.begin(), impl_->constant_values.end());
  for (const std::size_t k : impl_->random_parameters) {
    Rng rng(seed, draw, ps[k].stream);
    values[k] = ps[k].distribution.sample(rng);
  }
}

void Scenario::central(std::vector<double>& values) const {
  const auto& ps = impl_->parameters;
  values.resize(ps.size());
  for (std::size_t k = 0; k < ps.size(); ++k) {
    const Distribution& d = ps[k].distribution;
    values[k] = std::clamp(d.mean(), d.lower(), d.upper());
  }
}

std::vector<std::vector<std::size_t>> Scenario::group_parameters() const {
  const Impl& s = *impl_;
  std::vector<std::vector<std::size_t>> out(s.groups.size());
  for (std::size_t g = 0; g < s.groups.size(); ++g) {
    std::vector<std::size_t>& p = out[g];
    if (s.food_balance) {  // (the series read derived slots, which depend on every parameter)
      for (std::size_t i = 0; i < s.parameters.size(); ++i) p.push_back(i);
      continue;
    }
    auto index = [&p](int i) {
      if (i >= 0) p.push_back(std::size_t(i));
    };
    // Every parameter index build() reads for the group (a superset does no harm): its series,
    // and the scalars of its initial population, fertility and flows.
    const detail::GroupSpec& gs = s.groups[g];
    detail::for_each_series(gs, s.crisis[g], [&index](const detail::Series& x) {
      for (int i : x.values) index(i);
      index(x.scale);
    });
    for (std::size_t sex = 0; sex < 2; ++sex) {
      index(gs.initial.totals[sex]);
      index(gs.initial.undercount[sex]);
      index(gs.initial.abroad[sex]);
    }
    index(gs.initial.growth_rate);
    index(gs.initial.stable_share);
    index(gs.fertility.srb);
    const detail::CrisisSpec& cs = s.crisis[g];
    for (const detail::FlowSpec* f : {&gs.migration, &cs.flight, &cs.in_migration})
      if (f->present) index(f->female_share);
    for (const detail::ShockSpec* sh : {&cs.mortality, &cs.mortality_abroad})
      if (sh->uncertain_risk)
        for (const std::vector<int>& by_sex : sh->uncertain_risk->parameters)
          for (int i : by_sex) index(i);
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
  }
  return out;
}

void Scenario::build(std::span<const double> drawn, ModelInputs& out) const {
  const Impl& s = *impl_;
  const Dims& dims = s.dims;
  const AgeAxis& axis = dims.ages();
  const Eigen::Index A = dims.n_ages(), C = dims.n_cols(), G = dims.n_groups();
  const int width = axis.width;
  const std::size_t K = s.steps.size();
  STEPPE_ASSERT(drawn.size() == s.parameters.size());
  out.rates.resize(K);

  bool any_births_abroad = false, any_net_rate = false, any_net_count = false;
  for (const auto& g : s.groups) {
    any_births_abroad |= g.fertility.births_abroad;
    any_net_rate |= g.migration.present && g.migration.is_rate;
    any_net_count |= g.migration.present && !g.migration.is_rate;
  }
  if (!out.cache || out.cache->scenario != impl_.get()) {
    out.cache = std::make_shared<detail::BuildCache>();
    out.cache->scenario = impl_.get();
    out.cache->columns.resize(std::size_t(C));
    out.cache->crisis.resize(2 * K * std::size_t(C));
    out.cache->pattern_checked.assign(std::size_t(G), 0);
    out.cache->rate_checked.assign(2 * K * std::size_t(G), std::numeric_limits<double>::quiet_NaN());
  }
  detail::BuildCache& cache = *out.cache;
  // A food-balance crisis derives its series from the drivers (src/food_balance_scenario.cpp):
  // they read slots after the drawn parameters.
  const std::span<const double> v =
      s.food_balance ? detail::food_balance_values(s, drawn, cache.food_balance) : drawn;
  detail::food_balance_outputs(s, cache.food_balance, out.derived);
  // Keys of what is in out.rates: trusted only if this memo's last build, which completed, was
  // into this very `out` (a copy of a ModelInputs shares the memo but not the arrays).
  const bool trusted = cache.owner == &out && cache.written.size() == K;
  cache.owner = nullptr;  // until this build completes
  if (!trusted) cache.written.assign(K, {});
  cache.intensity.resize(std::size_t(G));
  cache.flight_deaths.resize(std::size_t(G));
  std::vector<detail::BuildCache::Column>& memo = cache.columns;
  Eigen::ArrayXd& multiplier_col = cache.multiplier;
  multiplier_col.resize(A);

  // Uncertain relative-risk schedules of this draw. One that differs from the last build's makes
  // the crisis memo and the written crisis columns of its group (in that place) unknown: their
  // keys (intensity, mortality) do not hold the schedule.
  cache.risk.resize(2 * std::size_t(G));
  for (Eigen::Index g = 0; g < G; ++g)
    for (int abroad = 0; abroad < 2; ++abroad) {
      const detail::ShockSpec& sh =
          abroad ? s.crisis[std::size_t(g)].mortality_abroad : s.crisis[std::size_t(g)].mortality;
      if (!sh.present || !sh.uncertain_risk) continue;
      sh.risk(v, cache.risk_scratch);
      Eigen::ArrayXXd& last = cache.risk[2 * std::size_t(g) + std::size_t(abroad)];
      if (last.rows() == cache.risk_scratch.rows() && last.cols() == cache.risk_scratch.cols() &&
          std::equal(last.data(), last.data() + last.size(), cache.risk_scratch.data(),
                     [](double x, double y) {
                       return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
                     }))
        continue;
      last.swap(cache.risk_scratch);
      for (int sex = 0; sex < 2; ++sex) {
        const std::size_t c = std::size_t(Dims::col(Sex(sex), int(g)));
        for (std::size_t k = 0; k < K; ++k) {
          cache.crisis[(2 * k + std::size_t(abroad)) * std::size_t(C) + c].valid = false;
          std::vector<detail::BuildCache::Key>& keys = cache.written[k].crisis[std::size_t(abroad)];
          if (c < keys.size()) keys[c] = {unknown, unknown, unknown};
        }
      }
    }

  for (std::size_t k = 0; k < K; ++k) {
    const double t0 = s.steps[k].start, t1 = s.steps[k].end;
    RateSet& r = out.rates[k];
    detail::BuildCache::Written& wr = cache.written[k];
    if (!trusted || !has_shape(r.survivorship, A, C, true) || !has_shape(r.asfr, A, G, true) ||
        !has_shape(r.asfr_abroad, A, G, any_births_abroad) ||
        !has_shape(r.net_migration_rate, A, C, any_net_rate) ||
        !has_shape(r.net_migration_count, A, C, any_net_count)) {
      forget(wr.survivorship, C);
      forget(wr.net_rate, C);
      forget(wr.net_count, C);
      forget(wr.crisis[0], C);
      forget(wr.crisis[1], C);
      forget(wr.asfr, G);
      forget(wr.asfr_abroad, G);
      for (auto& f : wr.flows) forget(f, C);
    }
    r.survivorship.resize(A, C);
    r.birth_survivorship.resize(C);
    // The baseline abroad is that at home (RateSet: empty = the same).
    r.survivorship_abroad.resize(0, 0);
    r.birth_survivorship_abroad.resize(0);
    r.asfr.resize(A, G);
    r.srb.resize(G);
    // Every column of these is written below (without a fill here).
    shape_or_empty(r.asfr_abroad, A, G, any_births_abroad);
    shape_or_empty(r.net_migration_rate, A, C, any_net_rate);
    shape_or_empty(r.net_migration_count, A, C, any_net_count);
    // The crisis components are made present (sized, filled) when first written in this step and
    // emptied at its end otherwise; their storage is kept from the previous draw when the shapes
    // agree, so a draw like the previous one allocates nothing here.
    bool has_crisis = false, has_crisis_abroad = false, has_fertility = false,
         has_emigration_rate = false, has_emigration_count = false, has_return_rate = false,
         has_immigration_count = false;
    // The crisis flows keep their arrays (and what wr.flows says of their columns) from the
    // previous draw while present: a column is rewritten if its key changed, and a column no
    // group wrote in this step is zeroed unless it is zero already. (Each column of a flow has
    // one writer: its group's flight for the emigration rate or count, its in-migration, which
    // is a count, for the immigration count, its return rate for the return rate.)
    cache.touched.assign(4 * std::size_t(C), 0);
    auto flow_present = [&](int which, Eigen::ArrayXXd& a, bool& present) {
      if (present) return;
      present = true;
      if (!has_shape(a, A, C, true)) {
        a.setZero(A, C);
        wr.flows[std::size_t(which)].assign(std::size_t(C), zero_flow);
      }
    };
    auto flow_changed = [&](int which, int c, const detail::BuildCache::Key& key) {
      cache.touched[std::size_t(which) * std::size_t(C) + std::size_t(c)] = 1;
      return changed(wr.flows[std::size_t(which)][std::size_t(c)], key);
    };

    for (Eigen::Index g = 0; g < G; ++g) {
      const detail::GroupSpec& gs = s.groups[std::size_t(g)];
      for (int sex = 0; sex < 2; ++sex) {
        const int c = Dims::col(Sex(sex), int(g));
        const auto key = mortality_key(gs.mortality, sex, v, k, t0, t1);
        detail::BuildCache::Column& m = memo[std::size_t(c)];
        if (!m.valid || key != m.key) {
          m.valid = false;
          m.stable_valid = false;
          single_year_columns(gs.mortality, sex, v, k, t0, t1, key, axis, m.single);
          detail::projection_survivorship(m.single, axis, m.survivorship);
          m.birth_survivorship = detail::birth_survivorship(m.single, width);
          m.log_birth_survivorship =
              m.birth_survivorship > 0.0 ? std::log(m.birth_survivorship) : 0.0;
          detail::log_floor(m.survivorship, m.log_survivorship);
          m.key = key;
          m.valid = true;
        }
        const detail::BuildCache::Key sk{0.0, key[0], key[1]};
        if (changed(wr.survivorship[std::size_t(c)], sk)) copy_column(r.survivorship.col(c), m.survivorship);
        r.birth_survivorship[c] = m.birth_survivorship;
        if (k == 0) {
          const detail::InitialSpec& in = gs.initial;
          if (in.stable) {
            const std::array<double, 3> sk{key[0], key[1], v[std::size_t(in.growth_rate)]};
            if (!m.stable_valid || sk != m.stable_key) {
              m.stable_valid = false;
              stable_weights(m.single, axis, sk[2], m);
              m.stable_key = sk;
              m.stable_valid = true;
            }
          }
        }
      }
      const detail::FertilitySpec& f = gs.fertility;
      const double tfr = f.tfr.mean_at_step(v, k, t0, t1);
      char& checked = cache.pattern_checked[std::size_t(g)];
      detail::BuildCache::Key& asfr_key = wr.asfr[std::size_t(g)];
      if (!(asfr_key == detail::BuildCache::Key{tfr, 0.0, 0.0})) {
        asfr_key = {unknown, unknown, unknown};  // (asfr_from_tfr may throw)
        if (checked && std::isfinite(tfr) && tfr >= 0) {
          // asfr_from_tfr's result, without re-validating the pattern it already accepted
          scale_column(r.asfr.col(g), tfr / axis.width, f.pattern_share);
        } else {
          r.asfr.col(g) = asfr_from_tfr(tfr, f.pattern_share, axis);
          checked = 1;
        }
        asfr_key = {tfr, 0.0, 0.0};
      }
      r.srb[g] = v[std::size_t(f.srb)];
      if (any_births_abroad) {
        detail::BuildCache::Key& ak = wr.asfr_abroad[std::size_t(g)];
        if (f.births_abroad) {
          if (changed(ak, {0.0, tfr, 0.0})) copy_column(r.asfr_abroad.col(g), r.asfr.col(g));
        } else if (changed(ak, {1.0, 0.0, 0.0})) {
          r.asfr_abroad.col(g).setZero();
        }
      }

      const detail::FlowSpec& m = gs.migration;
      for (int sex = 0; sex < 2; ++sex) {  // the kind of flow the group does not have
        const int c = Dims::col(Sex(sex), int(g));
        if (any_net_rate && !(m.present && m.is_rate) &&
            changed(wr.net_rate[std::size_t(c)], {1.0, 0.0, 0.0}))
          r.net_migration_rate.col(c).setZero();
        if (any_net_count && !(m.present && !m.is_rate) &&
            changed(wr.net_count[std::size_t(c)], {3.0, 0.0, 0.0}))
          r.net_migration_count.col(c).setZero();
      }
      if (m.present) {
        const double amount = m.amount.mean_at_step(v, k, t0, t1);
        // The rates depend on the amount only: one that passed the check in this step before
        // passes it again.
        double& checked_amount = cache.rate_checked[2 * (k * std::size_t(G) + std::size_t(g))];
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          if (m.is_rate) {
            if (changed(wr.net_rate[std::size_t(c)], {0.0, amount, 0.0}))
              scale_column(r.net_migration_rate.col(c), amount * width, m.pattern.col(sex));
            if (!(amount == checked_amount) && any_below(r.net_migration_rate.col(c), -1.0))
              fail_at(m.amount, "a net migration rate of " + num(amount) +
                                    " per year takes more than everybody out of some age cell");
          } else {
            const double fs = v[std::size_t(m.female_share)];
            if (changed(wr.net_count[std::size_t(c)], {2.0, amount, fs}))
              scale_column(r.net_migration_count.col(c), amount * width * (sex == 0 ? fs : 1.0 - fs),
                           m.pattern.col(sex));
          }
        }
        if (m.is_rate) checked_amount = amount;
      }
    }

    // ---- crisis components, present only where non-zero in this step ----
    // Crisis survivorship S^m = exp(m·ln S) with ln S kept from the baseline (as shock.hpp's
    // set_mortality_multiplier computes it, without recomputing ln S in every crisis step). The
    // exponential is taken over the whole column (a plain array expression, which Eigen
    // vectorises), then cells with S = 0 are set to 0. A column whose intensity and baseline are
    // those of the previous draw in this step is copied from the memo.
    for (int abroad = 0; abroad < 2; ++abroad) {
      Eigen::ArrayXXd& crisis = abroad ? r.crisis_survivorship_abroad : r.crisis_survivorship;
      Eigen::ArrayXd& crisis_birth =
          abroad ? r.crisis_birth_survivorship_abroad : r.crisis_birth_survivorship;
      bool& present = abroad ? has_crisis_abroad : has_crisis;
      std::vector<detail::BuildCache::Key>& keys = wr.crisis[std::size_t(abroad)];
      for (Eigen::Index g = 0; g < G; ++g) {
        const detail::ShockSpec& sh = abroad ? s.crisis[std::size_t(g)].mortality_abroad
                                             : s.crisis[std::size_t(g)].mortality;
        const double intensity = sh.present ? sh.intensity.mean_at_step(v, k, t0, t1) : 0.0;
        cache.intensity[std::size_t(g)] = intensity;
        present |= intensity != 0.0;
        const detail::Series& fd = s.crisis[std::size_t(g)].flight_deaths;
        const double dying = abroad || fd.empty() ? 0.0 : per_step(fd.mean_at_step(v, k, t0, t1), width);
        cache.flight_deaths[std::size_t(g)] = dying;
        present |= dying != 0.0;
      }
      if (!present) continue;  // emptied below
      if (!has_shape(crisis, A, C, true)) {
        crisis.resize(A, C);
        forget(keys, C);
      }
      crisis_birth.resize(C);
      for (Eigen::Index g = 0; g < G; ++g) {
        const detail::ShockSpec& sh = abroad ? s.crisis[std::size_t(g)].mortality_abroad
                                             : s.crisis[std::size_t(g)].mortality;
        const double intensity = cache.intensity[std::size_t(g)];
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          const detail::BuildCache::Column& base = memo[std::size_t(c)];
          detail::BuildCache::Key& written = keys[std::size_t(c)];
          const detail::BuildCache::Key ck{intensity, base.key[0], base.key[1]};
          if (intensity == 0.0) {  // the baseline
            if (changed(written, ck)) copy_column(crisis.col(c), base.survivorship);
            crisis_birth[c] = base.birth_survivorship;
            continue;
          }
          detail::BuildCache::Crisis& cc =
              cache.crisis[(2 * k + std::size_t(abroad)) * std::size_t(C) + std::size_t(c)];
          // (a memo hit had the same multipliers, so it passed the check below)
          bool in_column = false;  // computed straight into crisis.col(c) as well
          if (!cc.valid || cc.key != ck) {
            cc.valid = false;
            // The previous step's, if it had the same intensity (a series constant over steps).
            const detail::BuildCache::Crisis* prev =
                k > 0 ? &cache.crisis[(2 * (k - 1) + std::size_t(abroad)) * std::size_t(C) +
                                      std::size_t(c)]
                      : nullptr;
            if (prev && prev->valid && prev->key == ck) {
              cc.survivorship = prev->survivorship;
              cc.birth_survivorship = prev->birth_survivorship;
            } else {
              // m = 1 + intensity·(RR − 1), checked ≥ 0, and S^m, in one pass (crisis_column)
              cc.survivorship.resize(A);
              const double* rr =
                  (sh.uncertain_risk ? cache.risk[2 * std::size_t(g) + std::size_t(abroad)]
                                     : sh.relative_risk)
                      .col(sex)
                      .data();
              // (into the memo and the column at once; if this throws, the build is not
              // completed, so the next one trusts no column)
              in_column = true;
              if (detail::crisis_column(intensity, rr, base.log_survivorship.data(),
                                        base.survivorship.data(), cc.survivorship.data(), A,
                                        crisis.col(c).data()))
                fail_at(sh.intensity, "intensity " + num(intensity) +
                                          " with a relative risk below 1 gives a negative hazard "
                                          "multiplier 1 + intensity·(RR − 1)");
              const double m0 = 1.0 + intensity * (rr[0] - 1.0);
              const double sb = base.birth_survivorship;
              cc.birth_survivorship =
                  sb > 0.0 ? std::exp(m0 * base.log_birth_survivorship) : 0.0;
            }
            cc.key = ck;
            cc.valid = true;
          }
          if (changed(written, ck) && !in_column) copy_column(crisis.col(c), cc.survivorship);
          crisis_birth[c] = cc.birth_survivorship;
        }
      }
      // Deaths in flight attempts (a food-balance border regime), at home: survivorship times
      // 1 − probability·pattern (newborns do not flee). The memo above keeps the survivorship
      // without them, so the column is marked unknown for the next build.
      for (Eigen::Index g = 0; g < G; ++g) {
        const double dying = cache.flight_deaths[std::size_t(g)];
        if (dying == 0.0) continue;
        const detail::CrisisSpec& cs = s.crisis[std::size_t(g)];
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          const auto pattern = cs.flight.pattern.col(sex);
          // (dying ≥ 0 and rounding is monotone, so this is "any dying·pattern above 1")
          if (dying * cs.flight.pattern_max[std::size_t(sex)] > 1.0)
            fail_at(cs.flight_deaths, "a probability of dying in flight of " + num(dying) +
                                          " per step times the flight's age pattern exceeds 1 at "
                                          "some age");
          crisis.col(c) *= 1.0 - dying * pattern;
          keys[std::size_t(c)] = {unknown, unknown, unknown};
        }
      }
    }
    for (Eigen::Index g = 0; g < G; ++g) {
      const detail::CrisisSpec& cs = s.crisis[std::size_t(g)];
      if (!cs.fertility_reduction.empty()) {
        const double reduction = cs.fertility_reduction.mean_at_step(v, k, t0, t1);
        if (reduction != 0.0) {
          if (reduction > 1.0) fail_at(cs.fertility_reduction, "a fertility reduction above 1");
          if (!has_fertility) {
            r.fertility_multiplier.setOnes(G);
            has_fertility = true;
          }
          r.fertility_multiplier[g] = 1.0 - reduction;
        }
      }
      for (const detail::FlowSpec* f : {&cs.flight, &cs.in_migration}) {
        if (!f->present) continue;
        const double amount = f->amount.mean_at_step(v, k, t0, t1);
        if (amount == 0.0) continue;
        const bool flight = f == &cs.flight;
        double& checked_amount = cache.rate_checked[2 * (k * std::size_t(G) + std::size_t(g)) + 1];
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          if (f->is_rate) {
            if (amount > 1.0) fail_at(f->amount, "a flight rate of " + num(amount) + " per year");
            flow_present(0, r.emigration_rate, has_emigration_rate);
            const double p_step = per_step(amount, width);
            if (flow_changed(0, c, {amount, 0.0, 0.0}))
              scale_column(r.emigration_rate.col(c), p_step, f->pattern.col(sex));
            // Some cell of p_step·pattern above 1: the largest product is that of the pattern's
            // maximum (p_step ≥ 0) or minimum (p_step < 0), rounding being monotone.
            if (!(amount == checked_amount) &&
                (p_step * f->pattern_max[std::size_t(sex)] > 1.0 ||
                 p_step * f->pattern_min[std::size_t(sex)] > 1.0))
              fail_at(f->amount, "a flight rate of " + num(amount) +
                                     " per year times its age pattern exceeds 1 at some age");
          } else {
            const double fs = v[std::size_t(f->female_share)];
            Eigen::ArrayXXd& target = flight ? r.emigration_count : r.immigration_count;
            bool& target_present = flight ? has_emigration_count : has_immigration_count;
            const int which = flight ? 1 : 2;
            flow_present(which, target, target_present);
            if (flow_changed(which, c, {amount, fs, 0.0}))
              scale_column(target.col(c), amount * width * (sex == 0 ? fs : 1.0 - fs),
                           f->pattern.col(sex));
          }
        }
        if (f->is_rate) checked_amount = amount;
      }
      if (!cs.return_rate.empty()) {
        const double p = cs.return_rate.mean_at_step(v, k, t0, t1);
        if (p != 0.0) {
          flow_present(3, r.return_rate, has_return_rate);
          for (int sex = 0; sex < 2; ++sex) {
            const int c = Dims::col(Sex(sex), int(g));
            if (flow_changed(3, c, {p, 0.0, 0.0}))
              r.return_rate.col(c).setConstant(per_step(p, width));
          }
        }
      }
    }
    if (!has_crisis) {
      r.crisis_survivorship.resize(0, 0), r.crisis_birth_survivorship.resize(0);
      forget(wr.crisis[0], C);
    }
    if (!has_crisis_abroad) {
      r.crisis_survivorship_abroad.resize(0, 0), r.crisis_birth_survivorship_abroad.resize(0);
      forget(wr.crisis[1], C);
    }
    if (!has_fertility) r.fertility_multiplier.resize(0);
    {
      Eigen::ArrayXXd* flows[4] = {&r.emigration_rate, &r.emigration_count, &r.immigration_count,
                                   &r.return_rate};
      const bool present[4] = {has_emigration_rate, has_emigration_count, has_immigration_count,
                               has_return_rate};
      for (int which = 0; which < 4; ++which) {
        std::vector<detail::BuildCache::Key>& keys = wr.flows[std::size_t(which)];
        if (!present[which]) {
          flows[which]->resize(0, 0);
          forget(keys, C);
          continue;
        }
        for (Eigen::Index c = 0; c < C; ++c)
          if (!cache.touched[std::size_t(which) * std::size_t(C) + std::size_t(c)] &&
              changed(keys[std::size_t(c)], zero_flow))
            flows[which]->col(c).setZero();
      }
    }
    r.return_count.resize(0, 0);
  }

  // ---- initial population ----
  if (!(out.initial.dims() == dims)) out.initial = Population(dims);
  Eigen::ArrayXd& w = cache.weights;
  for (Eigen::Index g = 0; g < G; ++g) {
    const detail::InitialSpec& in = s.groups[std::size_t(g)].initial;
    for (int sex = 0; sex < 2; ++sex) {
      const int c = Dims::col(Sex(sex), int(g));
      double total = v[std::size_t(in.totals[std::size_t(sex)])];
      if (in.undercount[std::size_t(sex)] >= 0)
        total /= 1.0 - v[std::size_t(in.undercount[std::size_t(sex)])];
      if (in.stable && in.stable_share >= 0) {  // blend of the stable and the given shapes
        const double share = v[std::size_t(in.stable_share)];
        const Eigen::ArrayXd& st = memo[std::size_t(c)].stable_weights;
        w = share / st.sum() * st + (1.0 - share) / in.shape.col(sex).sum() * in.shape.col(sex);
      } else if (in.stable) {
        w = memo[std::size_t(c)].stable_weights;
      } else {
        w = in.shape.col(sex);
      }
      detail::divide_array(w.sum(), w.data(), w.size());
      scale_column(out.initial.home().col(c), total, w);
      const double abroad = in.abroad[0] >= 0 ? v[std::size_t(in.abroad[std::size_t(sex)])] : 0.0;
      scale_column(out.initial.abroad().col(c), abroad, w);
    }
  }
  cache.owner = &out;  // out.rates now holds what cache.written says
}

}  // namespace steppe
