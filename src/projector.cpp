// SPDX-License-Identifier: MIT
// The cohort-component step: migration (start share), survival and births, migration (end share).
// Projector::step runs a one-pass kernel compiled for the components present; if an out-flow
// exceeds the people present, it redoes the step with the multi-pass clamping step, which cuts
// (or throws) and records each clamp. Absent (empty) components of the RateSet cost nothing.
#include "steppe/projector.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

namespace steppe {

namespace {

// Bits of Flows::detail_written.
enum : unsigned {
  k_emigrants = 1u,
  k_returnees = 2u,
  k_immigrants = 4u,
  k_net = 8u,
  k_abroad = 16u,
};

// Cohort (Lexis parallelogram) indexing of a flow that happens partly at the start of the step,
// by start-of-step cell (`start_part`), and partly at its end, by end-of-step cell (`end_part`):
// the start part of cell x belongs to end cell x+1, the last two start cells to the open cell.
template <class StartExpr, class EndExpr>
void to_cohorts(const Eigen::ArrayBase<StartExpr>& start_part,
                const Eigen::ArrayBase<EndExpr>& end_part, Eigen::ArrayXXd& dst) {
  const Eigen::Index A = dst.rows();
  dst = end_part;
  dst.middleRows(1, A - 2) += start_part.topRows(A - 2);
  dst.row(A - 1) += start_part.row(A - 2) + start_part.row(A - 1);
}

// dst = rate·pop + count, with either term possibly absent (empty).
void requested(const Eigen::ArrayXXd& rate, const Eigen::ArrayXXd& count,
               const Eigen::ArrayXXd& pop, Eigen::ArrayXXd& dst) {
  if (rate.size() && count.size()) dst = rate * pop + count;
  else if (rate.size()) dst = rate * pop;
  else dst = count;
}

// Survivors move one cell up; the open cell keeps its own survivors. Deaths are the exact
// remainder, so the books balance to rounding. Row 0 (births) is filled later.
void survive(const Eigen::ArrayXXd& s, const Eigen::ArrayXXd& at_risk, Eigen::ArrayXXd& end,
             Eigen::ArrayXXd& deaths) {
  const Eigen::Index A = s.rows();
  end.middleRows(1, A - 2) = s.topRows(A - 2) * at_risk.topRows(A - 2);
  end.row(A - 1) = s.row(A - 2) * at_risk.row(A - 2) + s.row(A - 1) * at_risk.row(A - 1);
  deaths.middleRows(1, A - 2) = at_risk.topRows(A - 2) - end.middleRows(1, A - 2);
  deaths.row(A - 1) = at_risk.row(A - 2) + at_risk.row(A - 1) - end.row(A - 1);
}

// Deaths that survivorship s would give on at_risk (the baseline-rate expectation).
void expected_deaths(const Eigen::ArrayXXd& s, const Eigen::ArrayXXd& at_risk,
                     Eigen::ArrayXXd& deaths) {
  const Eigen::Index A = s.rows();
  deaths.middleRows(1, A - 2) = (1.0 - s.topRows(A - 2)) * at_risk.topRows(A - 2);
  deaths.row(A - 1) =
      (1.0 - s.row(A - 2)) * at_risk.row(A - 2) + (1.0 - s.row(A - 1)) * at_risk.row(A - 1);
}

const char* where_name(Clamp::Where w) {
  switch (w) {
    case Clamp::Where::home_start: return "at home, start of step";
    case Clamp::Where::home_end: return "at home, end of step";
    case Clamp::Where::abroad_start: return "abroad, start of step";
    case Clamp::Where::abroad_end: return "abroad, end of step";
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The one-pass step. For each (sex, group) column, one loop over the end-of-step cells y does
// everything that ends in y: the start-of-step migration of start cell x = y − 1, its survival
// into y, and the end-of-step migration of cell y; it writes every flow of cell y and adds them
// to the column totals. Four cells go together (GCC vector extensions); the same template body
// does single cells. Where an out-flow exceeds the people present, that column is built again,
// cutting it (the cut build: the same values in each cell as the clamping step below), and the
// cuts are recorded as the clamping step records them; under OnNegative::throw_error, the
// clamping step redoes the step and throws.
//
// The body is built twice: portable (each four-cell operation as two SSE2 ones on x86-64) and,
// on x86, for AVX2 (one operation), picked at run time from the CPU (Projector::avx2_). Where
// the CPU has AVX-512VL, the AVX2 build runs in a second form compiled for it: the same 32-byte
// operations, with 32 vector registers instead of 16, so that the crisis loop keeps its totals in
// registers (Projector::avx512_registers_). All give the same bits, so runs compare across
// machines: each lane does the same IEEE operations in the same order (no FMA: the library is
// built with -ffp-contract=off, and the AVX2 form does not even enable it), and each total is
// kept as four partial sums, one per lane of the four-cell packs (the 1 to 3 cells left after
// them counted in the lanes of the column's last four cells), folded in one fixed order, then
// the single cells (the open one; all of them below four) added in age order, whatever the
// vector width. Hence also: results never depend on timing or threads.
// ---------------------------------------------------------------------------------------------

// Four doubles are passed in one AVX register or in memory depending on the target; GCC warns
// that this changes the ABI. These helpers are all inlined, in this file only: no ABI is involved.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

// Four adjacent age cells. The AVX2 build holds them in one 32-byte vector (Pack4); the portable
// build in two 16-byte ones (Pack2x2: SSE2 on x86-64, NEON or scalar code elsewhere). Lane i is
// cell y + i in both, and each lane sees the same operations.
using Pack2 = double __attribute__((vector_size(16)));
using UnalignedPack2 = double __attribute__((vector_size(16), aligned(8)));
using Pack4 = double __attribute__((vector_size(32)));
using UnalignedPack4 = double __attribute__((vector_size(32), aligned(8)));
struct Pack2x2 {
  Pack2 lo, hi;  // cells y, y + 1 and y + 2, y + 3
};
constexpr Eigen::Index pack_lanes = 4;
template <class T>
inline constexpr bool is_pack = std::is_same_v<T, Pack4> || std::is_same_v<T, Pack2x2>;

// Lane-wise arithmetic of Pack2x2, and with a scalar (as GCC vectors do).
#define STEPPE_INLINE [[gnu::always_inline]] inline
STEPPE_INLINE Pack2x2 operator+(Pack2x2 a, Pack2x2 b) { return {a.lo + b.lo, a.hi + b.hi}; }
STEPPE_INLINE Pack2x2 operator-(Pack2x2 a, Pack2x2 b) { return {a.lo - b.lo, a.hi - b.hi}; }
STEPPE_INLINE Pack2x2 operator*(Pack2x2 a, Pack2x2 b) { return {a.lo * b.lo, a.hi * b.hi}; }
STEPPE_INLINE Pack2x2 operator/(Pack2x2 a, Pack2x2 b) { return {a.lo / b.lo, a.hi / b.hi}; }
STEPPE_INLINE Pack2x2 operator-(Pack2x2 a) { return {-a.lo, -a.hi}; }
STEPPE_INLINE Pack2x2 operator+(Pack2x2 a, double b) { return {a.lo + b, a.hi + b}; }
STEPPE_INLINE Pack2x2 operator-(double a, Pack2x2 b) { return {a - b.lo, a - b.hi}; }
STEPPE_INLINE Pack2x2 operator*(double a, Pack2x2 b) { return {a * b.lo, a * b.hi}; }
STEPPE_INLINE Pack2x2& operator+=(Pack2x2& a, Pack2x2 b) { return a = a + b; }
#undef STEPPE_INLINE

template <class T>
[[gnu::always_inline]] inline T load(const double* p) {
  if constexpr (std::is_same_v<T, Pack4>) return *reinterpret_cast<const UnalignedPack4*>(p);
  else if constexpr (std::is_same_v<T, Pack2x2>)
    return {*reinterpret_cast<const UnalignedPack2*>(p),
            *reinterpret_cast<const UnalignedPack2*>(p + 2)};
  else return *p;
}
template <class T>
[[gnu::always_inline]] inline void store(double* p, T v) {
  if constexpr (std::is_same_v<T, Pack4>) *reinterpret_cast<UnalignedPack4*>(p) = v;
  else if constexpr (std::is_same_v<T, Pack2x2>) {
    *reinterpret_cast<UnalignedPack2*>(p) = v.lo;
    *reinterpret_cast<UnalignedPack2*>(p + 2) = v.hi;
  } else *p = v;
}
// max(v, 0) and min(a, b), as selects (one instruction, or two: and + or).
template <class T>
[[gnu::always_inline]] inline T positive_part(T v) {
  if constexpr (std::is_same_v<T, Pack2x2>) return {positive_part(v.lo), positive_part(v.hi)};
  else return v > 0.0 ? v : T{};
}
template <class T>
[[gnu::always_inline]] inline T min(T a, T b) {
  if constexpr (std::is_same_v<T, Pack2x2>) return {min(a.lo, b.lo), min(a.hi, b.hi)};
  else return a < b ? a : b;
}
// Lane-wise a > b, and where(mask, a, b): a in the lanes where mask is set, else b.
template <class T>
[[gnu::always_inline]] inline auto greater(T a, T b) {
  if constexpr (std::is_same_v<T, Pack2x2>) return std::pair{a.lo > b.lo, a.hi > b.hi};
  else return a > b;
}
template <class M, class T>
[[gnu::always_inline]] inline T where(M mask, T a, T b) {
  if constexpr (std::is_same_v<T, Pack2x2>)
    return {mask.first ? a.lo : b.lo, mask.second ? a.hi : b.hi};
  else return mask ? a : b;
}
// Folds the four lane totals in one fixed order: (lanes 0 + 1) + (lanes 2 + 3).
[[gnu::always_inline]] inline double lane_sum(Pack4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }
[[gnu::always_inline]] inline double lane_sum(Pack2x2 v) {
  return (v.lo[0] + v.lo[1]) + (v.hi[0] + v.hi[1]);
}
[[gnu::always_inline]] inline double lane_min(Pack4 v) {
  return std::min(std::min(v[0], v[1]), std::min(v[2], v[3]));
}
[[gnu::always_inline]] inline double lane_min(Pack2x2 v) {
  return std::min(std::min(v.lo[0], v.lo[1]), std::min(v.hi[0], v.hi[1]));
}

// v, or weight · v where Weighted (the part of v that counts in a total).
template <bool Weighted, class T>
[[gnu::always_inline]] inline T counted(T weight, T v) {
  if constexpr (Weighted) return weight * v;
  else return v;
}

// Whether this CPU runs the AVX2 build of the one-pass step.
bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// Whether it runs that build in its form for AVX-512VL (32 vector registers).
bool cpu_has_avx512vl() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

}  // namespace

/// Pointers into one (sex, group) column. Absent rates point at zeros; without a crisis
/// survivorship, the survivorship used is the baseline; men's fertility points at zeros.
/// `counts` and `fertility` say which of these the four-cell loop must read: it is built for
/// each case, so that a column reads no array of zeros there.
struct Projector::Column {
  int col = 0;
  const double *P, *Q;       // start population, home and abroad
  const double *S, *Sb;      // survivorship used, and baseline (home)
  const double *Sa, *Sab;    // the same abroad
  const double *nr, *nc;     // net migration rate and count
  const double *er, *ec;     // emigration rate and count
  const double *rr, *rc;     // return rate and count
  const double *ic;          // immigrants
  const double *asfr, *asfr_abroad;
  double *O, *OQ;            // end population, home and abroad
  double *D, *BD, *DA, *BDA, *EM, *RE, *IM, *NM;  // flows by end cell
  double h = 0.5, e = 0.5;   // start and end shares of migration
  bool bear = true;          // options().end_migrants_bear
  bool abroad_vouched = false;  // the caller vouches that nobody is abroad at the start
  bool counts = true;        // some count (net migration, emigration, return) is present
  Fertility fertility = Fertility::home;  // whose women of this column bear children
  double* cuts = nullptr;    // the column's 8 rows of ages in Projector::cuts_ (cut builds)
  Eigen::Index n_ages = 0;   // their length
};

/// Column totals being summed; `exposure` is Σ asfr · (women at the start + at the end).
/// `slack` is the least of (people present − out-flow) over every out-flow: negative if some
/// out-flow must be clamped.
template <class T>
struct Projector::Totals {
  T deaths{}, baseline_deaths{}, deaths_abroad{}, baseline_deaths_abroad{};
  T emigrants{}, returnees{}, immigrants{}, net_migrants{};
  T population{}, population_abroad{}, exposure{}, exposure_abroad{};
  T slack = T{} + 1.0;  // margins are >= 0 unless a clamp is needed
};

namespace {

// Migration of one cell (or four) in one half of the step: its share of the flows requested
// over the whole step (rates apply to the start population). With emigration or returns, the
// net flow is split by sign, as in the clamping step; alone, it is kept signed (the same numbers:
// one of the two parts is zero).
// Only the members of the components present are set.
template <class T>
struct Half {
  T net, net_in, net_out, emigrants, returnees, immigrants;
};

// A flow requested over the whole step from cell x: rate · population, plus the count where
// counts are present (Counts false: no count array is present, none is read).
template <class T, bool Counts>
[[gnu::always_inline]] inline T requested_flow(const double* rate, T population,
                                               const double* count, Eigen::Index x) {
  if constexpr (Counts) return load<T>(rate + x) * population + load<T>(count + x);
  else return load<T>(rate + x) * population;
}

// (Column is deduced: Projector::Column is private.)
template <class T, bool Net, bool Mig, bool Counts, class Column>
[[gnu::always_inline]] inline Half<T> half(const Column& c, Eigen::Index x, double share) {
  Half<T> m;
  const T p = load<T>(c.P + x);
  if constexpr (Net) {
    const T net = requested_flow<T, Counts>(c.nr, p, c.nc, x);
    m.net = share * net;
    if constexpr (Mig) {
      m.net_in = share * positive_part(net);
      m.net_out = share * positive_part(-net);
    }
  } else {
    m.net_in = m.net_out = T{};
  }
  if constexpr (Mig) {
    m.emigrants = share * requested_flow<T, Counts>(c.er, p, c.ec, x);
    m.returnees = share * requested_flow<T, Counts>(c.rr, load<T>(c.Q + x), c.rc, x);
    m.immigrants = share * load<T>(c.ic + x);
  }
  return m;
}

// Applies migration m to `home` and `abroad` (the people present in one cell at the start or
// at the end of the step). Out-flows are capped by the people present before any arrival of
// the same half-step; returns the least margin (people present − out-flow), negative if an
// out-flow must be clamped.
template <class T, bool Mig, bool AtStart>
[[gnu::always_inline]] inline T migrate(const Half<T>& m, T& home, T& abroad) {
  if constexpr (Mig) {
    const T margin = min(home - (m.emigrants + m.net_out),
                         abroad + (AtStart ? T{} : m.emigrants) - m.returnees);
    // (The same order of operations as the clamping step.)
    home = AtStart ? home - m.emigrants - m.net_out : home - (m.emigrants + m.net_out);
    home = home + m.net_in + m.returnees + m.immigrants;
    abroad = abroad + m.emigrants - m.returnees;
    return margin;
  } else {
    home = home + m.net;  // = home − net out + net in, negative if net out > home
    return home;
  }
}

// The cut build (Projector::Column::cuts): cuts the out-flows of half-step m of cell x (start
// cell AtStart, else end cell) where they exceed the people present, as clamp_out does, and
// writes each cut's persons requested (0: no cut) and present into `cuts`. At home, emigrants +
// net out-migrants are cut to `home` in proportion, the net part as the remainder; abroad,
// returnees to `abroad` plus, at the end, the emigrants just arrived. (Built where emigration,
// returns or immigration are present: Mig.)
template <class T, bool Net, bool Mig, bool AtStart>
[[gnu::always_inline]] inline void cut(Half<T>& m, T home, T abroad, double* cuts, Eigen::Index A,
                                       Eigen::Index x) {
  static_assert(Mig, "the cut build runs with emigration, returns or immigration only");
  double* const row = cuts + (AtStart ? 0 : 4 * A) + x;  // home requested, present; abroad …
  {
    const T a = m.emigrants, b = m.net_out;  // (net_out is 0 without net migration)
    const T requested = a + b;
    const auto over = greater(requested, home);
    const T a_cut = home * (a / requested);
    m.emigrants = where(over, a_cut, a);
    if constexpr (Net) m.net_out = where(over, home - a_cut, b);
    store(row, where(over, requested, T{}));
    store(row + A, home);
    const T present = AtStart ? abroad : abroad + m.emigrants;
    const auto over_abroad = greater(m.returnees, present);
    store(row + 2 * A, where(over_abroad, m.returnees, T{}));
    store(row + 3 * A, present);
    m.returnees = where(over_abroad, present, m.returnees);
  }
}

// Start cell x after the start-of-step migration: people at risk at home and abroad.
template <class T>
struct Start {
  Half<T> m;
  T home, abroad;  // abroad: only with Abroad
};

// (Cut: the out-flows are cut first, and `margin` is left alone.)
template <class T, bool Net, bool Mig, bool Abroad, bool Counts, bool Cut, class Column>
[[gnu::always_inline]] inline Start<T> start_of_step(const Column& c, Eigen::Index x, T& margin) {
  Start<T> s;
  s.m = half<T, Net, Mig, Counts>(c, x, c.h);
  s.home = load<T>(c.P + x);
  if constexpr (Abroad) s.abroad = load<T>(c.Q + x);
  if constexpr (Cut) cut<T, Net, Mig, true>(s.m, s.home, s.abroad, c.cuts, c.n_ages, x);
  if constexpr (Net || Mig) {
    const T m = migrate<T, Mig, true>(s.m, s.home, s.abroad);
    if constexpr (!Cut) margin = m;
  }
  return s;
}

// The flow of a cohort ending in cell y: end share of cell y + start share of its start cell(s).
template <class T>
[[gnu::always_inline]] inline T net_flow(const Half<T>& m, bool signed_net) {
  return signed_net ? m.net : m.net_in - m.net_out;
}

}  // namespace

// End cells y0 ≤ y < y1 (1 ≤ y0, y1 ≤ A − 1: every cell but the newborns' and the open one),
// T = Pack4 or Pack2x2: four at a time (while four remain), T = double: one. Always inlined, so
// that it is built for the instruction set of the step that calls it. Counts, F and Bear are
// the column's `counts`, `fertility` and `bear` (Bear matters only if F is not none).
template <class T, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
          Projector::Fertility F, bool Bear, bool Vouched>
[[gnu::always_inline]] inline void Projector::end_cells(const Column& column, Eigen::Index y0,
                                                        Eigen::Index y1, Totals<T>& acc) const {
  constexpr Eigen::Index lanes = is_pack<T> ? pack_lanes : 1;
  const Column c = column;  // a local copy: the stores below cannot change its pointers
  Totals<T> sum = acc;      // likewise, kept in registers
  for (Eigen::Index y = y0; y + lanes <= y1; y += lanes)
    cells_ending_in<T, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, F, Bear, false, Vouched>(
        c, y, sum, T{});
  acc = sum;
}

// The last four end cells y1 − 4 ≤ y < y1 when end_cells left 1 to 3 of them, y0 ≤ y < y1: all
// four are written again (the same values), but only the cells from y0 count in the totals.
template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
          Projector::Fertility F, bool Bear, bool Vouched>
[[gnu::always_inline]] inline void Projector::last_end_cells(const Column& column,
                                                             Eigen::Index y0, Eigen::Index y1,
                                                             Totals<P>& acc) const {
  const Column c = column;
  Totals<P> sum = acc;
  const Eigen::Index y = y1 - pack_lanes;
  // Lane i weighs 1 if y + i >= y0 (a cell not counted yet), else 0: read from a constant table
  // (a vector load of lanes just stored one by one would stall on store forwarding).
  static constexpr double zeros_then_ones[2 * pack_lanes] = {0, 0, 0, 0, 1, 1, 1, 1};
  cells_ending_in<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, F, Bear, true, Vouched>(
      c, y, sum, load<P>(zeros_then_ones + pack_lanes - (y0 - y)));
  acc = sum;
}

// End cells y ... y + lanes − 1 (one pack, or one cell for T = double), written and added to
// `sum`. Weighted: each lane's part of the totals is multiplied by its `weight` (1 or 0), so
// that a cell already counted counts no more (× 1 and × 0 are exact; the margins need none).
// Vouched: without the abroad arrays, the caller vouches that nobody is abroad (no check).
template <class T, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
          Projector::Fertility F, bool Bear, bool Weighted, bool Vouched>
[[gnu::always_inline]] inline void Projector::cells_ending_in(const Column& c, Eigen::Index y,
                                                              Totals<T>& sum, T weight) const {
  const Eigen::Index x = y - 1;
  // Start of step, then survival from start cell x into end cell y. Deaths are the exact
  // remainder; baseline deaths are the deaths the baseline survivorship would give.
  // (The cut build cuts the out-flows instead: its margins stay so too.)
  T margin_start = sum.slack, margin_end = sum.slack;  // (stay so without migration)
  const Start<T> s = start_of_step<T, Net, Mig, Abroad, Counts, Cut>(c, x, margin_start);
  // Without the abroad arrays, the step assumes nobody is abroad; anyone there is a negative
  // margin, and the step is redone with them. (Where the caller vouches for it, every -Q is
  // -0.0, which would only lower a margin >= 0 to -0.0: not negative, the same outcome.)
  if constexpr (!Abroad && !Vouched) margin_start = min(margin_start, -load<T>(c.Q + x));
  const T v = load<T>(c.S + x) * s.home;
  const T d = s.home - v;
  const T bd = Shock ? (1.0 - load<T>(c.Sb + x)) * s.home : d;
  T va{}, da{}, bda{};
  if constexpr (Abroad) {
    va = load<T>(c.Sa + x) * s.abroad;
    da = s.abroad - va;
    bda = Shock ? (1.0 - load<T>(c.Sab + x)) * s.abroad : da;
  }
  // End of step: cell y's share of migration, capped by the survivors there.
  Half<T> m = half<T, Net, Mig, Counts>(c, y, c.e);
  T o = v, oa = va;
  if constexpr (Cut) cut<T, Net, Mig, false>(m, o, oa, c.cuts, c.n_ages, y);
  if constexpr (Net || Mig) {
    const T margin = migrate<T, Mig, false>(m, o, oa);
    if constexpr (!Cut) margin_end = margin;
  }
  sum.slack = min(sum.slack, min(margin_start, margin_end));
  store(c.O + y, o);
  if constexpr (ByAge >= by_age_deaths) store(c.D + y, d);
  if constexpr (ByAge == by_age_all) store(c.BD + y, bd);
  constexpr bool flow_totals = ByAge != by_age_lean;  // (populations only: no flow is summed)
  if constexpr (flow_totals) {
    sum.deaths += counted<Weighted>(weight, d);
    sum.baseline_deaths += counted<Weighted>(weight, bd);
  }
  sum.population += counted<Weighted>(weight, o);
  // Women exposed: at risk at the start (cell x) and at the end (cell y).
  if constexpr (F != Fertility::none)
    sum.exposure += counted<Weighted>(
        weight, load<T>(c.asfr + x) * s.home + load<T>(c.asfr + y) * (Bear ? o : v));
  if constexpr (Abroad) {
    store(c.OQ + y, oa);
    if constexpr (ByAge >= by_age_deaths) store(c.DA + y, da);
    if constexpr (ByAge == by_age_all) store(c.BDA + y, bda);
    if constexpr (flow_totals) {
      sum.deaths_abroad += counted<Weighted>(weight, da);
      sum.baseline_deaths_abroad += counted<Weighted>(weight, bda);
    }
    sum.population_abroad += counted<Weighted>(weight, oa);
    if constexpr (F == Fertility::home_and_abroad)
      sum.exposure_abroad += counted<Weighted>(
          weight, load<T>(c.asfr_abroad + x) * s.abroad +
                      load<T>(c.asfr_abroad + y) * (Bear ? oa : va));
  }
  // Migration flows of the cohort: end share of cell y + start share of cell x.
  if constexpr (Net) {
    const T nm = net_flow(m, !Mig) + net_flow(s.m, !Mig);
    if constexpr (ByAge == by_age_all) store(c.NM + y, nm);
    if constexpr (flow_totals) sum.net_migrants += counted<Weighted>(weight, nm);
  }
  if constexpr (Mig) {
    const T em = m.emigrants + s.m.emigrants, re = m.returnees + s.m.returnees,
            im = m.immigrants + s.m.immigrants;
    if constexpr (ByAge == by_age_all) {
      store(c.EM + y, em);
      store(c.RE + y, re);
      store(c.IM + y, im);
    }
    if constexpr (flow_totals) {
      sum.emigrants += counted<Weighted>(weight, em);
      sum.returnees += counted<Weighted>(weight, re);
      sum.immigrants += counted<Weighted>(weight, im);
    }
  }
}

// The open end cell A−1: survivors of start cells A−2 and A−1, then its end-of-step migration.
// Inlined (as newborns below) into the build that calls it: a call out of the vector code would
// spill every vector register it holds.
template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut>
[[gnu::always_inline]] inline void Projector::open_cell(const Column& c,
                                                        Totals<double>& acc) const {
  const Eigen::Index y = dims_.n_ages() - 1, x = y - 1;
  double margin1 = acc.slack, margin2 = acc.slack, margin_end = acc.slack;
  const Start<double> s1 = start_of_step<double, Net, Mig, Abroad, true, Cut>(c, x, margin1);
  const Start<double> s2 = start_of_step<double, Net, Mig, Abroad, true, Cut>(c, y, margin2);
  const double v = c.S[x] * s1.home + c.S[y] * s2.home;
  const double d = s1.home + s2.home - v;
  const double bd = Shock ? (1.0 - c.Sb[x]) * s1.home + (1.0 - c.Sb[y]) * s2.home : d;
  double va = 0.0, da = 0.0, bda = 0.0;
  if constexpr (Abroad) {
    va = c.Sa[x] * s1.abroad + c.Sa[y] * s2.abroad;
    da = s1.abroad + s2.abroad - va;
    bda = Shock ? (1.0 - c.Sab[x]) * s1.abroad + (1.0 - c.Sab[y]) * s2.abroad : da;
  }
  Half<double> m = half<double, Net, Mig, true>(c, y, c.e);
  double o = v, oa = va;
  if constexpr (Cut) cut<double, Net, Mig, false>(m, o, oa, c.cuts, c.n_ages, y);
  if constexpr (Net || Mig) {
    const double margin = migrate<double, Mig, false>(m, o, oa);
    if constexpr (!Cut) margin_end = margin;
  }
  acc.slack = std::min({acc.slack, margin1, margin2, margin_end});
  if constexpr (!Abroad) acc.slack = std::min({acc.slack, -c.Q[x], -c.Q[y]});  // see end_cells
  c.O[y] = o;
  if constexpr (ByAge >= by_age_deaths) c.D[y] = d;
  if constexpr (ByAge == by_age_all) c.BD[y] = bd;
  acc.deaths += d;
  acc.baseline_deaths += bd;
  acc.population += o;
  acc.exposure += c.asfr[x] * s1.home + c.asfr[y] * s2.home + c.asfr[y] * (c.bear ? o : v);
  if constexpr (Abroad) {
    c.OQ[y] = oa;
    if constexpr (ByAge >= by_age_deaths) c.DA[y] = da;
    if constexpr (ByAge == by_age_all) c.BDA[y] = bda;
    acc.deaths_abroad += da;
    acc.baseline_deaths_abroad += bda;
    acc.population_abroad += oa;
    acc.exposure_abroad += c.asfr_abroad[x] * s1.abroad + c.asfr_abroad[y] * s2.abroad +
                           c.asfr_abroad[y] * (c.bear ? oa : va);
  }
  // Start shares of both start cells, then the end share.
  if constexpr (Net) {
    const double nm = net_flow(m, !Mig) + (net_flow(s1.m, !Mig) + net_flow(s2.m, !Mig));
    if constexpr (ByAge == by_age_all) c.NM[y] = nm;
    acc.net_migrants += nm;
  }
  if constexpr (Mig) {
    const double em = m.emigrants + (s1.m.emigrants + s2.m.emigrants);
    const double re = m.returnees + (s1.m.returnees + s2.m.returnees);
    const double im = m.immigrants + (s1.m.immigrants + s2.m.immigrants);
    if constexpr (ByAge == by_age_all) {
      c.EM[y] = em;
      c.RE[y] = re;
      c.IM[y] = im;
    }
    acc.emigrants += em;
    acc.returnees += re;
    acc.immigrants += im;
  }
}

// End cell 0: the step's births that survive to its end, then the end-of-step migration at age 0.
// With `cut` (c.cuts set), an out-flow that exceeds the newborns present is cut, writing the
// cells' row 0 of c.cuts; returns whether it was.
template <bool Net, bool Mig, bool Abroad, int ByAge>
[[gnu::always_inline]] inline bool Projector::newborns(const Column& c, double births,
                                                       double births_abroad, double sb,
                                                       double sb_base, double sba, double sba_base,
                                                       Totals<double>& acc, bool cut) const {
  const double v = births * sb, va = Abroad ? births_abroad * sba : 0.0;
  const double d = births - v, bd = births * (1.0 - sb_base);
  if constexpr (ByAge >= by_age_deaths) c.D[0] = d;
  if constexpr (ByAge == by_age_all) c.BD[0] = bd;
  acc.deaths += d;
  acc.baseline_deaths += bd;
  Half<double> m = half<double, Net, Mig, true>(c, 0, c.e);
  double o = v, oa = va;
  bool was_cut = false;
  if constexpr (Net || Mig) {
    [[maybe_unused]] const Half<double> asked = m;
    [[maybe_unused]] const double survivors = o, survivors_abroad = oa;
    const double margin = migrate<double, Mig, false>(m, o, oa);
    if (!cut) {
      acc.slack = std::min(acc.slack, margin);
    } else if (margin < 0.0) {  // cut, and migrate again
      if constexpr (Mig) {
        m = asked;
        o = survivors;
        oa = survivors_abroad;
        steppe::cut<double, Net, Mig, false>(m, o, oa, c.cuts, c.n_ages, 0);
        migrate<double, Mig, false>(m, o, oa);
        was_cut = true;
      }
    }
  }
  c.O[0] = o;
  acc.population += o;
  if constexpr (Abroad) {
    c.OQ[0] = oa;
    const double da = births_abroad - va, bda = births_abroad * (1.0 - sba_base);
    if constexpr (ByAge >= by_age_deaths) c.DA[0] = da;
    if constexpr (ByAge == by_age_all) c.BDA[0] = bda;
    acc.deaths_abroad += da;
    acc.baseline_deaths_abroad += bda;
    acc.population_abroad += oa;
  }
  if constexpr (Net) {
    const double nm = net_flow(m, !Mig);
    if constexpr (ByAge == by_age_all) c.NM[0] = nm;
    acc.net_migrants += nm;
  }
  if constexpr (Mig) {
    if constexpr (ByAge == by_age_all) {
      c.EM[0] = m.emigrants;
      c.RE[0] = m.returnees;
      c.IM[0] = m.immigrants;
    }
    acc.emigrants += m.emigrants;
    acc.returnees += m.returnees;
    acc.immigrants += m.immigrants;
  }
  return was_cut;
}

// Ages 1..A−1 of one column: four cells at a time, then the 1 to 3 left over with the last
// four (or one at a time if there are fewer than four in all), then the open cell. The lane
// totals are folded in a fixed order, then the single cells added in age order.
// The loops are built for the column's counts, fertility and `bear` (see Column).
template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut>
[[gnu::always_inline]] inline Projector::Totals<double> Projector::ages_above_0(
    const Column& c) const {
  constexpr bool may_count = Net || Mig;  // without migration there is no count to read
  if (may_count && c.counts)
    return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, may_count>(c);
  return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, false>(c);
}

template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts>
[[gnu::always_inline]] inline Projector::Totals<double> Projector::ages_above_0(
    const Column& c) const {
  using enum Fertility;
  if (c.fertility == none)
    return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, none, false>(c);
  if constexpr (Abroad) {  // (women abroad bear children only where there are any)
    if (c.fertility == home_and_abroad) {
      constexpr Fertility both = home_and_abroad;
      if (c.bear) return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, both, true>(c);
      return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, both, false>(c);
    }
  }
  if (c.bear) return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, home, true>(c);
  return ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, home, false>(c);
}

template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
          Projector::Fertility F, bool Bear>
[[gnu::always_inline]] inline Projector::Totals<double> Projector::ages_above_0(
    const Column& c) const {
  const Eigen::Index A = dims_.n_ages();
  // Built twice without the abroad arrays: checking that nobody is abroad, and without the
  // check where the caller vouches for it (Column::abroad_vouched).
  // (Inlined like the rest, so that it is built for the instruction set of the step.)
  auto cells = [&]<bool Vouched>(std::bool_constant<Vouched>) __attribute__((always_inline)) {
    Totals<P> four;
    end_cells<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, F, Bear, Vouched>(c, 1, A - 1, four);
    Eigen::Index done = 1 + pack_lanes * ((A - 2) / pack_lanes);
    if (done < A - 1 && A - 2 >= pack_lanes) {
      last_end_cells<P, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, F, Bear, Vouched>(c, done,
                                                                                      A - 1, four);
      done = A - 1;
    }
    Totals<double> acc{lane_sum(four.deaths), lane_sum(four.baseline_deaths),
                       lane_sum(four.deaths_abroad), lane_sum(four.baseline_deaths_abroad),
                       lane_sum(four.emigrants), lane_sum(four.returnees), lane_sum(four.immigrants),
                       lane_sum(four.net_migrants), lane_sum(four.population),
                       lane_sum(four.population_abroad), lane_sum(four.exposure),
                       lane_sum(four.exposure_abroad), lane_min(four.slack)};
    end_cells<double, Net, Mig, Abroad, Shock, ByAge, Cut, Counts, F, Bear, Vouched>(c, done, A - 1,
                                                                                    acc);
    return acc;
  };
  Totals<double> acc;
  if constexpr (!Abroad) acc = c.abroad_vouched ? cells(std::true_type{}) : cells(std::false_type{});
  else acc = cells(std::false_type{});
  open_cell<Net, Mig, Abroad, Shock, ByAge, Cut>(c, acc);
  return acc;
}

// The portable build of the one-pass step, or the AVX2 one where the CPU has it (in its form
// for AVX-512VL where the CPU has that too).
template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
bool Projector::step_one_pass(const Population& in, const RateSet& r, Population& out, Flows& f,
                              bool crisis) {
  // The build without flow totals exists in the AVX-512VL form only (the others would add to the
  // compile time for no gain where it runs): elsewhere the step with them stands in (the same
  // populations, births and clamps).
  if constexpr (ByAge == by_age_lean) {
#if defined(__x86_64__) || defined(__i386__)
    if (avx2_ && avx512_registers_)
      return step_one_pass_avx512vl<Net, Mig, Abroad, Shock, ByAge>(in, r, out, f, crisis);
#endif
    return step_one_pass<Net, Mig, Abroad, Shock, by_age_none>(in, r, out, f, crisis);
  } else {
#if defined(__x86_64__) || defined(__i386__)
    if (avx2_ && avx512_registers_)
      return step_one_pass_avx512vl<Net, Mig, Abroad, Shock, ByAge>(in, r, out, f, crisis);
    if (avx2_) return step_one_pass_avx2<Net, Mig, Abroad, Shock, ByAge>(in, r, out, f, crisis);
#endif
    return one_pass_body<Pack2x2, Net, Mig, Abroad, Shock, ByAge>(in, r, out, f, crisis);
  }
}

#if defined(__x86_64__) || defined(__i386__)
// AVX2 only, not FMA: fused multiply-adds would round differently from the portable build.
template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
[[gnu::target("avx2")]] bool Projector::step_one_pass_avx2(const Population& in, const RateSet& r,
                                                           Population& out, Flows& f,
                                                           bool crisis) {
  return one_pass_body<Pack4, Net, Mig, Abroad, Shock, ByAge>(in, r, out, f, crisis);
}

// The AVX2 build for CPUs with AVX-512VL: the same 32-byte vectors and operations, in 32
// registers. (AVX-512F implies FMA in GCC; -ffp-contract=off keeps the compiler from fusing.)
template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
[[gnu::target("avx2,avx512f,avx512vl")]] bool Projector::step_one_pass_avx512vl(
    const Population& in, const RateSet& r, Population& out, Flows& f, bool crisis) {
  return one_pass_body<Pack4, Net, Mig, Abroad, Shock, ByAge>(in, r, out, f, crisis);
}
#endif

// P: Pack4 (AVX2 build) or Pack2x2 (portable build).
template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
[[gnu::always_inline]] inline bool Projector::one_pass_body(const Population& in,
                                                            const RateSet& r, Population& out,
                                                            Flows& f, bool crisis) {
  const double n = dims_.ages().width;
  const double* zero = zeros_.data();
  auto col_of = [&](const Eigen::ArrayXXd& a, int col, bool present) {
    return present && a.size() ? &a(0, col) : zero;
  };
  const bool shocked = Shock && r.crisis_survivorship.size();
  const bool shocked_abroad = Shock && r.crisis_survivorship_abroad.size();
  // Out-flows are cut in the step itself under OnNegative::clamp where there is emigration,
  // return or immigration (a crisis: net migration alone takes the clamping step, as its
  // kernels measured faster without the cut build), unless it skips groups (it then stops
  // instead: see detail::step_skipping_groups).
  constexpr bool may_cut = Mig;
  const bool cutting = may_cut && options_.on_negative == OnNegative::clamp && !skipped_groups_;
  auto column = [&](Sex sex, int g) {
    Column c;
    c.col = Dims::col(sex, g);
    const int k = c.col;
    c.P = &in.home()(0, k);
    c.Q = &in.abroad()(0, k);
    c.Sb = &r.survivorship(0, k);
    c.S = shocked ? &r.crisis_survivorship(0, k) : c.Sb;
    c.Sab = &r.baseline_survivorship_abroad()(0, k);
    c.Sa = shocked_abroad ? &r.crisis_survivorship_abroad(0, k) : c.Sab;
    c.nr = col_of(r.net_migration_rate, k, Net);
    c.nc = col_of(r.net_migration_count, k, Net);
    c.er = col_of(r.emigration_rate, k, Mig);
    c.ec = col_of(r.emigration_count, k, Mig);
    c.rr = col_of(r.return_rate, k, Mig);
    c.rc = col_of(r.return_count, k, Mig);
    c.ic = col_of(r.immigration_count, k, Mig);
    c.asfr = sex == Sex::female ? &r.asfr(0, g) : zero;
    c.asfr_abroad = sex == Sex::female && r.asfr_abroad.size() ? &r.asfr_abroad(0, g) : zero;
    c.O = &out.home()(0, k);
    c.OQ = &out.abroad()(0, k);
    c.D = &f.deaths(0, k);
    c.BD = &f.baseline_deaths(0, k);
    c.DA = &f.deaths_abroad(0, k);
    c.BDA = &f.baseline_deaths_abroad(0, k);
    c.EM = &f.emigrants(0, k);
    c.RE = &f.returnees(0, k);
    c.IM = &f.immigrants(0, k);
    c.NM = &f.net_migrants(0, k);
    c.h = start_share(options_.timing);
    c.e = 1.0 - c.h;
    c.bear = options_.end_migrants_bear;
    c.abroad_vouched = in_abroad_zero_;
    c.counts = r.net_migration_count.size() ||
               (Mig && (r.emigration_count.size() || r.return_count.size()));
    c.fertility = sex == Sex::male ? Fertility::none
                  : Abroad && r.asfr_abroad.size() ? Fertility::home_and_abroad
                                                   : Fertility::home;
    c.cuts = cutting ? &cuts_(0, k) : nullptr;
    c.n_ages = dims_.n_ages();
    return c;
  };
  Flows::ColumnTotals& t = f.totals;
  cut_step_ = false;
  if (cutting) std::fill(cut_columns_.begin(), cut_columns_.end(), char(0));
  // An out-flow exceeds the people present (or someone is abroad without Abroad) in a column of
  // cols: each such column is built again, cutting (its cells' values are those of
  // step_multipass). Returns false if that is not possible. (Inlined: out of line, it would be
  // built without the step's instruction set, and run at half the speed.)
  auto cut_columns = [&](const Column* cols, Totals<double>* acc) __attribute__((always_inline)) {
    if constexpr (!may_cut) {
      return false;
    } else {
      if (!cutting) return false;
      for (int s = 0; s < 2; ++s) {
        if (!(acc[s].slack < 0.0)) continue;
        acc[s] = ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, true>(cols[s]);
        if (acc[s].slack < 0.0) return false;  // someone is abroad after all
        double* cuts = cols[s].cuts;
        const Eigen::Index A = dims_.n_ages();
        cuts[4 * A] = cuts[6 * A] = 0.0;  // (age 0 at the end: newborns() below)
        cut_columns_[std::size_t(cols[s].col)] = 2;
        cut_step_ = true;
      }
      return true;
    }
  };
  for (int g = 0; g < dims_.n_groups(); ++g) {
    if (skipped_groups_ && (skipped_groups_ >> g & 1u)) continue;  // (g < 64 where any is)
    const Column cols[2] = {column(Sex::female, g), column(Sex::male, g)};
    Totals<double> acc[2] = {ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, false>(cols[0]),
                             ages_above_0<P, Net, Mig, Abroad, Shock, ByAge, false>(cols[1])};
    if ((acc[0].slack < 0.0 || acc[1].slack < 0.0) && !cut_columns(cols, acc)) return false;
    // Births: n/2 · Σ asfr · (women at the start + women at the end), at home and abroad,
    // split by sex with the sex ratio at birth; the crisis multiplies fertility.
    const double home_base = 0.5 * n * acc[0].exposure;
    const double abroad_base = Abroad ? 0.5 * n * acc[0].exposure_abroad : 0.0;
    const double fm = crisis && r.fertility_multiplier.size() ? r.fertility_multiplier(g) : 1.0;
    const double share_f = 1.0 / (1.0 + r.srb(g));
    for (int s = 0; s < 2; ++s) {
      const Column& c = cols[s];
      const int k = c.col;
      const double share = s == 0 ? share_f : 1.0 - share_f;
      f.births(k) = fm * home_base * share;
      f.births_abroad(k) = fm * abroad_base * share;
      f.baseline_births(k) = (home_base + abroad_base) * share;
      const double sb_base = r.birth_survivorship(k),
                   sba_base = r.baseline_birth_survivorship_abroad()(k);
      const double sb = shocked && r.crisis_birth_survivorship.size()
                            ? r.crisis_birth_survivorship(k) : sb_base;
      const double sba = shocked_abroad && r.crisis_birth_survivorship_abroad.size()
                             ? r.crisis_birth_survivorship_abroad(k) : sba_base;
      if (newborns<Net, Mig, Abroad, ByAge>(c, f.births(k), f.births_abroad(k), sb, sb_base, sba,
                                            sba_base, acc[s], cutting)) {
        char& level = cut_columns_[std::size_t(k)];
        level = std::max(level, char(1));
        cut_step_ = true;
      }
      if (acc[s].slack < 0.0) return false;
      t.deaths(k) = acc[s].deaths;
      t.baseline_deaths(k) = acc[s].baseline_deaths;
      t.deaths_abroad(k) = acc[s].deaths_abroad;
      t.baseline_deaths_abroad(k) = acc[s].baseline_deaths_abroad;
      t.emigrants(k) = acc[s].emigrants;
      t.returnees(k) = acc[s].returnees;
      t.immigrants(k) = acc[s].immigrants;
      t.net_migrants(k) = acc[s].net_migrants;
      t.population(k) = acc[s].population;
      t.population_abroad(k) = acc[s].population_abroad;
    }
  }
  if (cut_step_) record_cuts(f);
  return true;
}

void Projector::record_cuts(Flows& f) {
  const Eigen::Index A = dims_.n_ages(), C = dims_.n_cols();
  // Cuts of one kind (rows `block` … of cuts_: requested, then present), cells [x0, x1) of the
  // columns whose level is at least `level`, column by column as clamp_out records them.
  auto record = [&](Clamp::Where where, Eigen::Index block, Eigen::Index x0, Eigen::Index x1,
                    char level) {
    for (Eigen::Index c = 0; c < C; ++c) {
      if (cut_columns_[std::size_t(c)] < level) continue;
      const double* requested = &cuts_(block * A, c);
      const double* present = requested + A;
      for (Eigen::Index x = x0; x < x1; ++x) {
        if (!(requested[x] > 0.0)) continue;
        if (f.clamps.size() < f.clamps.capacity())
          f.clamps.push_back(Clamp{where, int(x), int(c), requested[x], present[x]});
        f.clamped_persons += requested[x] - present[x];
      }
    }
  };
  // step_multipass's order: the start at home then abroad, the end at ages above 0 at home then
  // abroad, then at age 0.
  record(Clamp::Where::home_start, 0, 0, A, 2);
  record(Clamp::Where::abroad_start, 2, 0, A, 2);
  record(Clamp::Where::home_end, 4, 1, A, 2);
  record(Clamp::Where::abroad_end, 6, 1, A, 2);
  record(Clamp::Where::home_end, 4, 0, 1, 1);
  record(Clamp::Where::abroad_end, 6, 0, 1, 1);
}

Projector::Projector(Dims dims, ProjectorOptions options)
    : dims_(std::move(dims)),
      options_(options),
      avx2_(cpu_has_avx2()),
      avx512_registers_(cpu_has_avx512vl()),
      zeros_(Eigen::ArrayXd::Zero(dims_.n_ages())),
      mid_(dims_) {
  const Eigen::Index A = dims_.n_ages(), C = dims_.n_cols();
  for (Eigen::ArrayXXd* a : {&emig_req_, &ret_req_, &net_in_req_, &net_out_req_, &emig_s_,
                             &ret_s_, &net_out_s_, &emig_e_, &ret_e_, &net_out_e_})
    a->setZero(A, C);
  cuts_.setZero(8 * A, C);
  cut_columns_.assign(std::size_t(C), 0);
}

bool detail::use_avx2_kernel(Projector& p, bool on) noexcept {
  p.avx2_ = on && cpu_has_avx2();
  return p.avx2_;
}

bool detail::use_avx512_registers(Projector& p, bool on) noexcept {
  p.avx512_registers_ = on && cpu_has_avx512vl();
  return p.avx2_ && p.avx512_registers_;
}

void Projector::step(const Population& in, const RateSet& r, Population& out, Flows& f,
                     Regime regime) {
  step_impl<by_age_all>(in, r, out, f, regime);
}

bool detail::step_without_by_age_flows(Projector& p, const Population& in, const RateSet& r,
                                       Population& out, Flows& f, Regime regime,
                                       bool out_abroad_zero, bool in_abroad_zero) {
  return p.step_impl<Projector::by_age_none>(in, r, out, f, regime, out_abroad_zero,
                                             in_abroad_zero);
}

bool detail::step_populations_only(Projector& p, const Population& in, const RateSet& r,
                                   Population& out, Flows& f, Regime regime,
                                   bool out_abroad_zero, bool in_abroad_zero) {
  return p.step_impl<Projector::by_age_lean>(in, r, out, f, regime, out_abroad_zero,
                                             in_abroad_zero);
}

bool detail::step_with_by_age_deaths_only(Projector& p, const Population& in, const RateSet& r,
                                          Population& out, Flows& f, Regime regime,
                                          bool out_abroad_zero, bool in_abroad_zero) {
  return p.step_impl<Projector::by_age_deaths>(in, r, out, f, regime, out_abroad_zero,
                                               in_abroad_zero);
}

bool detail::step_skipping_groups(Projector& p, const Population& in, const RateSet& r,
                                  Population& out, Flows& f, Regime regime, bool by_age_deaths,
                                  bool out_abroad_zero, bool in_abroad_zero,
                                  std::uint64_t skipped_groups) {
  STEPPE_ASSERT(p.dims_.n_groups() <= 64 || skipped_groups == 0);
  if (by_age_deaths)
    return p.step_impl<Projector::by_age_deaths>(in, r, out, f, regime, out_abroad_zero,
                                                 in_abroad_zero, skipped_groups);
  return p.step_impl<Projector::by_age_none>(in, r, out, f, regime, out_abroad_zero,
                                             in_abroad_zero, skipped_groups);
}

int detail::last_step_path(const Projector& p) noexcept { return p.path_; }

template <int ByAge>
bool Projector::step_impl(const Population& in, const RateSet& r, Population& out, Flows& f,
                          Regime regime, bool out_abroad_zero, bool in_abroad_zero,
                          std::uint64_t skipped_groups) {
  const Eigen::Index A = dims_.n_ages(), C = dims_.n_cols();
  STEPPE_ASSERT(&in != &out);
  STEPPE_ASSERT(in.home().rows() == A && in.home().cols() == C);
  STEPPE_ASSERT(out.home().rows() == A && out.home().cols() == C);
  STEPPE_ASSERT(r.survivorship.rows() == A && r.survivorship.cols() == C);
  STEPPE_ASSERT(f.deaths.rows() == A && f.deaths.cols() == C);
  STEPPE_ASSERT(f.totals.deaths.size() == C);
  (void)A;
  (void)C;

  // Which components this step has; the one-pass step is compiled for each combination.
  const bool crisis = regime == Regime::crisis;
  const bool net = r.net_migration_rate.size() || r.net_migration_count.size();
  const bool mig = crisis && (r.emigration_rate.size() || r.emigration_count.size() ||
                              r.return_rate.size() || r.return_count.size() ||
                              r.immigration_count.size());
  const bool emig_or_ret = crisis && (r.emigration_rate.size() || r.emigration_count.size() ||
                                      r.return_rate.size() || r.return_count.size());
  // Whether anyone is abroad at the start (counts are >= 0: a positive count or total means
  // someone is). Where `f` holds the totals of `in` (the end of the previous step), they tell;
  // else one pass over the cells. Only a guess: the step without the abroad arrays checks that
  // nobody is abroad as it reads the cells, and is redone with them if someone is.
  const bool totals_of_in = f.totals.valid && f.totals.population_data == in.home().data();
  bool abroad = emig_or_ret || (!in_abroad_zero && (totals_of_in
                                                        ? (f.totals.population_abroad > 0.0).any()
                                                        : in.abroad().maxCoeff() > 0.0));
  in_abroad_zero_ = in_abroad_zero;  // (read by the one-pass step's columns)
  skipped_groups_ = skipped_groups;   // (read by the one-pass step's loop over groups)
  path_ = detail::step_path_incomplete;  // until the step completes (it may throw)
  const bool shock = crisis && (r.crisis_survivorship.size() || r.crisis_survivorship_abroad.size());
  f.clamps.clear();
  f.clamped_persons = 0.0;

  using OnePass = bool (Projector::*)(const Population&, const RateSet&, Population&, Flows&, bool);
  // [net][mig][abroad][shock]; emigration, returns or immigration always run with the abroad
  // arrays (immigrants alone leave them zero).
  static constexpr OnePass one_pass[2][2][2][2] = {
      {{{&Projector::step_one_pass<false, false, false, false, ByAge>,
         &Projector::step_one_pass<false, false, false, true, ByAge>},
        {&Projector::step_one_pass<false, false, true, false, ByAge>,
         &Projector::step_one_pass<false, false, true, true, ByAge>}},
       {{&Projector::step_one_pass<false, true, true, false, ByAge>,
         &Projector::step_one_pass<false, true, true, true, ByAge>},
        {&Projector::step_one_pass<false, true, true, false, ByAge>,
         &Projector::step_one_pass<false, true, true, true, ByAge>}}},
      {{{&Projector::step_one_pass<true, false, false, false, ByAge>,
         &Projector::step_one_pass<true, false, false, true, ByAge>},
        {&Projector::step_one_pass<true, false, true, false, ByAge>,
         &Projector::step_one_pass<true, false, true, true, ByAge>}},
       {{&Projector::step_one_pass<true, true, true, false, ByAge>,
         &Projector::step_one_pass<true, true, true, true, ByAge>},
        {&Projector::step_one_pass<true, true, true, false, ByAge>,
         &Projector::step_one_pass<true, true, true, true, ByAge>}}}};
  // Whether anyone is abroad at the start of a column the step projects.
  auto anyone_abroad = [&] {
    if (!skipped_groups) return in.abroad().maxCoeff() > 0.0;
    for (int g = 0; g < dims_.n_groups(); ++g)
      if (!(skipped_groups >> g & 1u) &&
          in.abroad().middleCols(Dims::col(Sex::female, g), 2).maxCoeff() > 0.0)
        return true;
    return false;
  };
  bool done = (this->*one_pass[net][mig][abroad][shock])(in, r, out, f, crisis);
  if (!done && !abroad && !in_abroad_zero && anyone_abroad()) {
    abroad = true;  // someone is abroad after all: redo the step with the abroad arrays
    done = (this->*one_pass[net][mig][abroad][shock])(in, r, out, f, crisis);
  }
  skipped_groups_ = 0;
  if (!done) {
    if (skipped_groups) return false;  // (path_ stays detail::step_path_incomplete)
    step_multipass(in, r, out, f, regime);  // an out-flow must be cut: redo the step, clamping
    path_ = detail::step_path_clamped;
    return false;
  }
  path_ = cut_step_ ? detail::step_path_clamped
                    : int(net) | int(mig) << 1 | int(abroad || mig) << 2 | int(shock) << 3;
  f.totals.valid = true;
  f.totals.population_data = out.home().data();

  const bool abroad_written = abroad || mig;
  // Nobody abroad: the totals abroad are 0 already. The one-pass step without the abroad arrays
  // never writes out.abroad(), so where the caller vouches that it holds zeros it is left alone.
  if (!abroad_written && !out_abroad_zero) out.abroad().setZero();
  // Arrays of absent components are zeroed only if a previous step wrote them.
  auto zero_unless = [&](bool written, unsigned bit, std::initializer_list<Eigen::ArrayXXd*> arrays) {
    if (written) f.detail_written |= bit;
    else if (f.detail_written & bit) {
      for (Eigen::ArrayXXd* a : arrays) a->setZero();
      f.detail_written &= ~bit;
    }
  };
  // Arrays not stored this step keep their detail_written bits (an array may be non-zero where
  // its bit is set), so a later step that stores them zeroes them if it must. With deaths only,
  // deaths_abroad must be zero where nobody is abroad (baseline_deaths_abroad, with the same bit,
  // is zeroed along with it).
  if constexpr (ByAge <= by_age_none) return !abroad_written;
  if constexpr (ByAge == by_age_deaths) {
    zero_unless(abroad_written, k_abroad, {&f.deaths_abroad, &f.baseline_deaths_abroad});
    return !abroad_written;
  }
  zero_unless(mig, k_emigrants | k_returnees | k_immigrants,
              {&f.emigrants, &f.returnees, &f.immigrants});
  zero_unless(net, k_net, {&f.net_migrants});
  zero_unless(abroad_written, k_abroad, {&f.deaths_abroad, &f.baseline_deaths_abroad});
  return !abroad_written;
}

// Cuts the out-flows out_a + out_b (rows [row0, row0 + n)) back to `present` where they exceed
// it, proportionally, and records each cut. out_b may be null. Runs only when a cut is needed.
void Projector::clamp_out(Clamp::Where where, Eigen::Index row0, Eigen::Index n,
                          const Eigen::ArrayXXd& present, Eigen::ArrayXXd& out_a,
                          Eigen::ArrayXXd* out_b, Flows& flows) const {
  for (Eigen::Index c = 0; c < present.cols(); ++c)
    for (Eigen::Index x = row0; x < row0 + n; ++x) {
      const double a = out_a(x, c), b = out_b ? (*out_b)(x, c) : 0.0, p = present(x, c);
      if (a + b <= p) continue;
      if (options_.on_negative == OnNegative::throw_error)
        throw domain_error("Projector::step: out-migration " + std::string(where_name(where)) +
                           " of group \"" + dims_.group_name(int(c / 2)) + "\", " +
                           to_string(Sex(c % 2)) + ", age cell " + std::to_string(x) + ": " +
                           std::to_string(a + b) + " persons requested, only " +
                           std::to_string(p) + " present");
      // Keep `present − a' − b'` exactly zero: b' is computed as the remainder.
      const double a_new = out_b ? p * (a / (a + b)) : p;
      out_a(x, c) = a_new;
      if (out_b) (*out_b)(x, c) = p - a_new;
      if (flows.clamps.size() < flows.clamps.capacity())
        flows.clamps.push_back(Clamp{where, int(x), int(c), a + b, p});
      flows.clamped_persons += (a + b) - p;
    }
}

void Projector::births(const Eigen::ArrayXXd& home_at_risk, const Eigen::ArrayXXd& abroad_at_risk,
                       const RateSet& r, const Population& out, bool crisis, bool abroad_live,
                       Flows& f) const {
  const double n = dims_.ages().width;
  const bool has_abroad = abroad_live && r.asfr_abroad.size();
  for (int g = 0; g < dims_.n_groups(); ++g) {
    const int cf = Dims::col(Sex::female, g), cm = Dims::col(Sex::male, g);
    // Person-years lived by women in each cell over the step: n/2 · (start + end), the start
    // after the start-of-step migration, the end with or without the end-of-step migrants.
    const double home_base =
        0.5 * n * (r.asfr.col(g) * (home_at_risk.col(cf) + out.home().col(cf))).sum();
    const double abroad_base =
        has_abroad
            ? 0.5 * n * (r.asfr_abroad.col(g) * (abroad_at_risk.col(cf) + out.abroad().col(cf))).sum()
            : 0.0;
    const double fm = crisis && r.fertility_multiplier.size() ? r.fertility_multiplier(g) : 1.0;
    const double share_f = 1.0 / (1.0 + r.srb(g)), share_m = 1.0 - share_f;
    f.births(cf) = fm * home_base * share_f;
    f.births(cm) = fm * home_base * share_m;
    f.births_abroad(cf) = fm * abroad_base * share_f;
    f.births_abroad(cm) = fm * abroad_base * share_m;
    f.baseline_births(cf) = (home_base + abroad_base) * share_f;
    f.baseline_births(cm) = (home_base + abroad_base) * share_m;
  }
}

// The multi-pass step: each stage is an Eigen array expression over all columns. It clamps
// out-flows that exceed the people present (or throws), so step() falls back on it whenever the
// one-pass step finds such a flow. Its results are those of the one-pass step to rounding.
void Projector::step_multipass(const Population& in, const RateSet& r, Population& out, Flows& f,
                              Regime regime) {
  const Eigen::Index A = dims_.n_ages(), C = dims_.n_cols();

  const bool crisis = regime == Regime::crisis;
  const double h = start_share(options_.timing), e = 1.0 - h;
  const bool has_net = r.net_migration_rate.size() || r.net_migration_count.size();
  const bool has_emig = crisis && (r.emigration_rate.size() || r.emigration_count.size());
  const bool has_ret = crisis && (r.return_rate.size() || r.return_count.size());
  const bool has_imm = crisis && r.immigration_count.size();
  // Counts are >= 0, so a positive maximum means someone is abroad (one vectorized pass).
  const bool abroad_live = has_emig || has_ret || in.abroad().maxCoeff() > 0.0;
  const bool any_migration = has_net || has_emig || has_ret || has_imm;
  f.clamps.clear();
  f.clamped_persons = 0.0;

  // 1. Requested flows over the whole step (rates apply to the start population).
  if (has_net) {
    requested(r.net_migration_rate, r.net_migration_count, in.home(), net_in_req_);
    net_out_req_ = (-net_in_req_).max(0.0);
    net_in_req_ = net_in_req_.max(0.0);
  }
  if (has_emig) requested(r.emigration_rate, r.emigration_count, in.home(), emig_req_);
  if (has_ret) requested(r.return_rate, r.return_count, in.abroad(), ret_req_);

  // 2. Start-of-step share of migration. Out-flows are capped by the people present before any
  //    arrival of the same half-step.
  const Eigen::ArrayXXd* home_at_risk = &in.home();
  const Eigen::ArrayXXd* abroad_at_risk = &in.abroad();
  if (h > 0.0 && any_migration) {
    mid_.home() = in.home();
    if (has_emig || has_net) {
      if (has_emig) emig_s_ = h * emig_req_;
      else emig_s_.setZero();
      if (has_net) net_out_s_ = h * net_out_req_;
      else net_out_s_.setZero();
      if ((emig_s_ + net_out_s_ - in.home()).maxCoeff() > 0.0)
        clamp_out(Clamp::Where::home_start, 0, A, in.home(), emig_s_, &net_out_s_, f);
      mid_.home() -= emig_s_;
      mid_.home() -= net_out_s_;
      if (has_net) mid_.home() += h * net_in_req_;
    }
    if (has_ret) {
      ret_s_ = h * ret_req_;
      if ((ret_s_ - in.abroad()).maxCoeff() > 0.0)
        clamp_out(Clamp::Where::abroad_start, 0, A, in.abroad(), ret_s_, nullptr, f);
      mid_.home() += ret_s_;
    }
    if (has_imm) mid_.home() += h * r.immigration_count;
    home_at_risk = &mid_.home();
    if (has_emig || has_ret) {
      mid_.abroad() = in.abroad();
      if (has_emig) mid_.abroad() += emig_s_;
      if (has_ret) mid_.abroad() -= ret_s_;
      abroad_at_risk = &mid_.abroad();
    }
  }

  // 3. Survival: the crisis survivorship (S^m, computed when the rates were built) or the
  //    baseline. Baseline-rate deaths on the same population at risk feed excess definition (b).
  const bool shocked = crisis && r.crisis_survivorship.size();
  survive(shocked ? r.crisis_survivorship : r.survivorship, *home_at_risk, out.home(), f.deaths);
  if (shocked) expected_deaths(r.survivorship, *home_at_risk, f.baseline_deaths);
  else f.baseline_deaths.bottomRows(A - 1) = f.deaths.bottomRows(A - 1);
  const bool shocked_abroad = crisis && r.crisis_survivorship_abroad.size();
  if (abroad_live) {
    survive(shocked_abroad ? r.crisis_survivorship_abroad : r.baseline_survivorship_abroad(),
            *abroad_at_risk, out.abroad(), f.deaths_abroad);
    if (shocked_abroad)
      expected_deaths(r.baseline_survivorship_abroad(), *abroad_at_risk, f.baseline_deaths_abroad);
    else
      f.baseline_deaths_abroad.bottomRows(A - 1) = f.deaths_abroad.bottomRows(A - 1);
    f.detail_written |= k_abroad;
  } else {
    out.abroad().setZero();
    if (f.detail_written & k_abroad) {
      f.deaths_abroad.setZero();
      f.baseline_deaths_abroad.setZero();
      f.births_abroad.setZero();
      f.detail_written &= ~k_abroad;
    }
  }

  // 4. End-of-step share of migration, by end-of-step cell, capped by the survivors there.
  const bool end_migration = e > 0.0 && any_migration;
  if (end_migration) {
    if (has_emig) emig_e_ = e * emig_req_;
    else emig_e_.setZero();
    if (has_net) net_out_e_ = e * net_out_req_;
    else net_out_e_.setZero();
    if (has_ret) ret_e_ = e * ret_req_;
  }
  auto end_half = [&](Eigen::Index row0, Eigen::Index n) {
    if (!end_migration) return;
    if (has_emig || has_net) {
      if ((emig_e_.middleRows(row0, n) + net_out_e_.middleRows(row0, n) -
           out.home().middleRows(row0, n)).maxCoeff() > 0.0)
        clamp_out(Clamp::Where::home_end, row0, n, out.home(), emig_e_, &net_out_e_, f);
      out.home().middleRows(row0, n) -= emig_e_.middleRows(row0, n) + net_out_e_.middleRows(row0, n);
      if (has_net) out.home().middleRows(row0, n) += e * net_in_req_.middleRows(row0, n);
      if (has_emig) out.abroad().middleRows(row0, n) += emig_e_.middleRows(row0, n);
    }
    if (has_ret) {
      if ((ret_e_.middleRows(row0, n) - out.abroad().middleRows(row0, n)).maxCoeff() > 0.0)
        clamp_out(Clamp::Where::abroad_end, row0, n, out.abroad(), ret_e_, nullptr, f);
      out.home().middleRows(row0, n) += ret_e_.middleRows(row0, n);
      out.abroad().middleRows(row0, n) -= ret_e_.middleRows(row0, n);
    }
    if (has_imm) out.home().middleRows(row0, n) += e * r.immigration_count.middleRows(row0, n);
  };

  // 5. Births from the women exposed over the step; whether the end-of-step migrants count is an
  //    option (asfr is 0 in cell 0, so the newborns' own cell never enters the exposure).
  out.home().row(0).setZero();
  out.abroad().row(0).setZero();
  if (!options_.end_migrants_bear) births(*home_at_risk, *abroad_at_risk, r, out, crisis, abroad_live, f);
  end_half(1, A - 1);
  if (options_.end_migrants_bear) births(*home_at_risk, *abroad_at_risk, r, out, crisis, abroad_live, f);
  const Eigen::ArrayXd& sb = shocked && r.crisis_birth_survivorship.size()
                                 ? r.crisis_birth_survivorship : r.birth_survivorship;
  out.home().row(0) = (f.births * sb).transpose();
  f.deaths.row(0) = f.births.transpose() - out.home().row(0);
  f.baseline_deaths.row(0) = (f.births * (1.0 - r.birth_survivorship)).transpose();
  if (abroad_live) {
    const Eigen::ArrayXd& sba = shocked_abroad && r.crisis_birth_survivorship_abroad.size()
                                    ? r.crisis_birth_survivorship_abroad
                                    : r.baseline_birth_survivorship_abroad();
    out.abroad().row(0) = (f.births_abroad * sba).transpose();
    f.deaths_abroad.row(0) = f.births_abroad.transpose() - out.abroad().row(0);
    f.baseline_deaths_abroad.row(0) =
        (f.births_abroad * (1.0 - r.baseline_birth_survivorship_abroad())).transpose();
  }
  end_half(0, 1);

  // 6. Migration flows in cohort (end-of-step cell) indexing; absent ones are zero.
  auto cohorts = [&](bool present, unsigned bit, Eigen::ArrayXXd& dst, auto&& fill) {
    if (present) {
      fill();
      f.detail_written |= bit;
    } else if (f.detail_written & bit) {
      dst.setZero();
      f.detail_written &= ~bit;
    }
  };
  // Start and end parts of a flow; a part whose share is 0 was never computed this step.
  auto split = [&](const Eigen::ArrayXXd& start, const Eigen::ArrayXXd& end, Eigen::ArrayXXd& dst) {
    if (h > 0.0 && e > 0.0) to_cohorts(start, end, dst);
    else if (h > 0.0) to_cohorts(start, Eigen::ArrayXXd::Zero(A, C), dst);
    else to_cohorts(Eigen::ArrayXXd::Zero(A, C), end, dst);
  };
  cohorts(has_emig, k_emigrants, f.emigrants, [&] { split(emig_s_, emig_e_, f.emigrants); });
  cohorts(has_ret, k_returnees, f.returnees, [&] { split(ret_s_, ret_e_, f.returnees); });
  cohorts(has_imm, k_immigrants, f.immigrants, [&] {
    to_cohorts(h * r.immigration_count, e * r.immigration_count, f.immigrants);
  });
  cohorts(has_net, k_net, f.net_migrants, [&] {
    // Net migrants = arrivals − departures; departures may have been clamped.
    if (h > 0.0) net_out_s_ = h * net_in_req_ - net_out_s_;
    if (e > 0.0) net_out_e_ = e * net_in_req_ - net_out_e_;
    split(net_out_s_, net_out_e_, f.net_migrants);
  });

  // 7. Column totals of the flows and of the end population.
  Flows::ColumnTotals& t = f.totals;
  t.deaths = f.deaths.colwise().sum().transpose();
  t.deaths_abroad = f.deaths_abroad.colwise().sum().transpose();
  t.baseline_deaths = f.baseline_deaths.colwise().sum().transpose();
  t.baseline_deaths_abroad = f.baseline_deaths_abroad.colwise().sum().transpose();
  t.emigrants = f.emigrants.colwise().sum().transpose();
  t.returnees = f.returnees.colwise().sum().transpose();
  t.immigrants = f.immigrants.colwise().sum().transpose();
  t.net_migrants = f.net_migrants.colwise().sum().transpose();
  t.population = out.home().colwise().sum().transpose();
  t.population_abroad = out.abroad().colwise().sum().transpose();
  t.valid = true;
  t.population_data = out.home().data();
}

}  // namespace steppe
