// SPDX-License-Identifier: MIT
// Projector: advances a population one step (cohort-component method) and fills its flows.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "steppe/flows.hpp"
#include "steppe/population.hpp"
#include "steppe/rate_set.hpp"

namespace steppe {

class Projector;

namespace detail {
/// Not API (tests only): with `on` false, `p.step` runs the portable (SSE2 on x86-64) build of
/// its one-pass kernel even where the CPU has AVX2; with `on` true, the AVX2 build if the CPU
/// has it. Both give the same bits. Returns whether the AVX2 build is now in use.
bool use_avx2_kernel(Projector& p, bool on) noexcept;
/// Not API (tests only): with `on` false, the AVX2 build runs in its plain AVX2 form even where
/// the CPU has AVX-512VL; with `on` true (the default), in its form for AVX-512VL if the CPU has
/// it. Same bits. Returns whether the AVX-512VL form is now in use.
bool use_avx512_registers(Projector& p, bool on) noexcept;
/// Not API (CrisisRunner's loop): `p.step(in, rates, out, flows, regime)`, except that the one-pass
/// kernel does not store the by-age flow arrays of `flows` (deaths, deaths_abroad,
/// baseline_deaths, baseline_deaths_abroad, emigrants, returnees, immigrants, net_migrants): they
/// are left unspecified (possibly values of an earlier step). `out`, births, clamps and
/// flows.totals are bit-identical to those of step(). For steps whose observers read only the
/// totals.
/// `out_abroad_zero`: the caller vouches that every cell of out.abroad() holds +0.0 (then the
/// step does not zero it again where nobody is abroad). `in_abroad_zero`: the same of
/// in.abroad() (then the step does not check, cell by cell, that nobody is abroad). Returns
/// whether every cell of out.abroad() holds +0.0 after the step (false where unknown).
bool step_without_by_age_flows(Projector& p, const Population& in, const RateSet& rates,
                               Population& out, Flows& flows, Regime regime = Regime::crisis,
                               bool out_abroad_zero = false, bool in_abroad_zero = false);
/// Not API (CrisisRunner's runs for a likelihood, which read populations only): what
/// step_without_by_age_flows does, except that of flows.totals only population and
/// population_abroad are kept (the other totals are unspecified); `out`, births and clamps are
/// bit-identical to those of step(). The kernel then sums no flow: a few per cent faster.
bool step_populations_only(Projector& p, const Population& in, const RateSet& rates,
                           Population& out, Flows& flows, Regime regime = Regime::crisis,
                           bool out_abroad_zero = false, bool in_abroad_zero = false);
/// Not API (CrisisRunner's loop, for steps whose Accounts keep by-age arrays): the same, except
/// that flows.deaths and flows.deaths_abroad are written by age as step() writes them.
bool step_with_by_age_deaths_only(Projector& p, const Population& in, const RateSet& rates,
                                  Population& out, Flows& flows, Regime regime = Regime::crisis,
                                  bool out_abroad_zero = false, bool in_abroad_zero = false);
/// Not API (CrisisRunner's reuse of unchanged groups): what the two functions above do, for the
/// groups g whose bit g of `skipped_groups` is clear only (dims.n_groups() <= 64). The columns of
/// the skipped groups, in `out`, in the by-age flows and in flows.totals and births, are neither
/// read nor written (out.abroad() may still be zeroed as a whole, as the step does where nobody
/// is abroad), and the projected columns get the same bits as in a step of every group taken by
/// the same path (last_step_path). Where that step would cut an out-flow, or would find
/// someone abroad only in a skipped column, nothing is cut: the step stops with
/// last_step_path() == step_path_incomplete and its outputs unspecified. Returns as the two above.
bool step_skipping_groups(Projector& p, const Population& in, const RateSet& rates,
                          Population& out, Flows& flows, Regime regime, bool by_age_deaths,
                          bool out_abroad_zero, bool in_abroad_zero, std::uint64_t skipped_groups);
/// The path by which p's last step ran: the one-pass step built for the components (bits
/// 1 net migration, 2 emigration/returns/immigration, 4 abroad arrays, 8 crisis survivorship),
/// step_path_clamped (it cut some out-flow), or step_path_incomplete (see above).
inline constexpr int step_path_clamped = 16;
inline constexpr int step_path_incomplete = 32;
int last_step_path(const Projector& p) noexcept;
}  // namespace detail

/// The step kernel of the cohort-component projection. Owns only scratch space, sized once in
/// the constructor: step() never allocates and makes no virtual call.
class Projector {
 public:
  /// @throws domain_error if dims is invalid.
  explicit Projector(Dims dims, ProjectorOptions options = {});

  /// Advances `in` one step (dims.ages().width years) into `out` and fills `flows`.
  /// Order within the step: start-of-step share of migration → survival (baseline, or crisis
  /// survivorship under Regime::crisis) and births → end-of-step share of migration.
  /// Preconditions: &in != &out; in, out, rates and flows sized for dims() (asserted);
  /// rates validated (RateSet::validate). Complexity: O(ages × sexes × groups).
  /// @throws domain_error only under OnNegative::throw_error, if an out-flow exceeds the people
  ///         present (with OnNegative::clamp the flow is cut and recorded in flows.clamps).
  void step(const Population& in, const RateSet& rates, Population& out, Flows& flows,
            Regime regime = Regime::crisis);

  /// The same step by the straightforward algorithm: one array expression per flow and per
  /// half-step, several passes over the arrays. step() runs a fused one-pass kernel instead,
  /// which cuts out-flows itself (the same values cell by cell, recorded alike), and falls back
  /// to this one only to throw under OnNegative::throw_error. Same contract and results as
  /// step() (to rounding), slower; kept public for cross-checks and for reading.
  void step_multipass(const Population& in, const RateSet& rates, Population& out, Flows& flows,
                      Regime regime = Regime::crisis);

  const Dims& dims() const noexcept { return dims_; }
  const ProjectorOptions& options() const noexcept { return options_; }

 private:
  friend bool detail::use_avx2_kernel(Projector& p, bool on) noexcept;
  friend bool detail::use_avx512_registers(Projector& p, bool on) noexcept;
  friend bool detail::step_without_by_age_flows(Projector& p, const Population& in,
                                                const RateSet& rates, Population& out,
                                                Flows& flows, Regime regime,
                                                bool out_abroad_zero, bool in_abroad_zero);
  friend bool detail::step_populations_only(Projector& p, const Population& in,
                                            const RateSet& rates, Population& out, Flows& flows,
                                            Regime regime, bool out_abroad_zero,
                                            bool in_abroad_zero);
  friend bool detail::step_with_by_age_deaths_only(Projector& p, const Population& in,
                                                   const RateSet& rates, Population& out,
                                                   Flows& flows, Regime regime,
                                                   bool out_abroad_zero, bool in_abroad_zero);
  friend bool detail::step_skipping_groups(Projector& p, const Population& in,
                                           const RateSet& rates, Population& out, Flows& flows,
                                           Regime regime, bool by_age_deaths,
                                           bool out_abroad_zero, bool in_abroad_zero,
                                           std::uint64_t skipped_groups);
  friend int detail::last_step_path(const Projector& p) noexcept;

  // Which by-age flow arrays the one-pass kernel stores (template argument ByAge).
  static constexpr int by_age_lean = -1;   // none, nor totals of flows (step_populations_only)
  static constexpr int by_age_none = 0;    // none (detail::step_without_by_age_flows)
  static constexpr int by_age_deaths = 1;  // deaths and deaths_abroad only
  static constexpr int by_age_all = 2;     // every flow (step)
  // step(), storing the by-age flow arrays that ByAge says. out_abroad_zero, in_abroad_zero and
  // the result as in detail::step_without_by_age_flows.
  // skipped_groups as in detail::step_skipping_groups (0: every group, with the fallback).
  template <int ByAge>
  bool step_impl(const Population& in, const RateSet& rates, Population& out, Flows& flows,
                 Regime regime, bool out_abroad_zero = false, bool in_abroad_zero = false,
                 std::uint64_t skipped_groups = 0);

  struct Column;        // pointers into one (sex, group) column of inputs and outputs
  /// Whose women of a column bear children: none (men), those at home, at home and abroad.
  enum class Fertility { none, home, home_and_abroad };
  template <class T>
  struct Totals;        // column totals being summed (per lane in the four-cell loop)

  // The one-pass step (src/projector.cpp): Net = net migration present, Mig = emigration,
  // returns or immigration present (the abroad population then lives), Abroad = anyone abroad,
  // Shock = crisis survivorship. Where an out-flow exceeds the people present, it cuts it (a
  // column's cut build, redone for that column only) under OnNegative::clamp where Mig, except
  // where it skips groups. Returns false, leaving the outputs to be overwritten, where it does not cut
  // such an out-flow, or if someone is abroad without Abroad. The
  // same body is built twice: portable (SSE2 on x86-64) and, on x86, for AVX2 (in two forms:
  // AVX2, and AVX-512VL with its 32 registers), chosen at run time; all give the same bits.
  template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
  bool step_one_pass(const Population& in, const RateSet& rates, Population& out, Flows& flows,
                     bool crisis);
  template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
  bool step_one_pass_avx2(const Population& in, const RateSet& rates, Population& out,
                          Flows& flows, bool crisis);
  template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
  bool step_one_pass_avx512vl(const Population& in, const RateSet& rates, Population& out,
                              Flows& flows, bool crisis);
  template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge>
  bool one_pass_body(const Population& in, const RateSet& rates, Population& out, Flows& flows,
                     bool crisis);
  // Cut: the column is built to cut its out-flows where they exceed the people present (as
  // clamp_out does), writing what it cut into Column::cuts; it runs only for a column whose
  // plain build found a cut needed.
  template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut>
  Totals<double> ages_above_0(const Column& c) const;
  template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts>
  Totals<double> ages_above_0(const Column& c) const;
  template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
            Fertility F, bool Bear>
  Totals<double> ages_above_0(const Column& c) const;
  template <class T, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
            Fertility F, bool Bear, bool Vouched>
  void end_cells(const Column& c, Eigen::Index y0, Eigen::Index y1, Totals<T>& acc) const;
  template <class P, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
            Fertility F, bool Bear, bool Vouched>
  void last_end_cells(const Column& c, Eigen::Index y0, Eigen::Index y1, Totals<P>& acc) const;
  template <class T, bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut, bool Counts,
            Fertility F, bool Bear, bool Weighted, bool Vouched>
  void cells_ending_in(const Column& c, Eigen::Index y, Totals<T>& sum, T weight) const;
  template <bool Net, bool Mig, bool Abroad, bool Shock, int ByAge, bool Cut>
  void open_cell(const Column& c, Totals<double>& acc) const;
  template <bool Net, bool Mig, bool Abroad, int ByAge>
  bool newborns(const Column& c, double births, double births_abroad, double sb, double sb_base,
                double sba, double sba_base, Totals<double>& acc, bool cut) const;
  // Records the cuts that the one-pass step wrote into cuts_, in step_multipass's order.
  void record_cuts(Flows& flows);

  void clamp_out(Clamp::Where where, Eigen::Index row0, Eigen::Index n,
                 const Eigen::ArrayXXd& present, Eigen::ArrayXXd& out_a, Eigen::ArrayXXd* out_b,
                 Flows& flows) const;
  void births(const Eigen::ArrayXXd& home_at_risk, const Eigen::ArrayXXd& abroad_at_risk,
              const RateSet& rates, const Population& out, bool crisis, bool abroad_live,
              Flows& flows) const;

  Dims dims_;
  ProjectorOptions options_;
  bool avx2_ = false;     // run the AVX2 build of the one-pass step (the CPU has AVX2)
  bool avx512_registers_ = false;  // run it in its form for AVX-512VL (the CPU has that too)
  Eigen::ArrayXd zeros_;  // ages: stands in for absent rates in the one-pass step
  bool in_abroad_zero_ = false;  // this step: the caller vouches nobody is abroad at its start
  std::uint64_t skipped_groups_ = 0;  // this step: groups the one-pass step leaves alone
  int path_ = 0;  // the path of the last step (detail::last_step_path)
  bool cut_step_ = false;  // the last one-pass step cut some out-flow (cut_columns_)
  // Scratch of step_multipass, all ages × cols, sized in the constructor.
  Population mid_;                     // after the start-of-step migration
  Eigen::ArrayXXd emig_req_, ret_req_;  // requested crisis flows over the whole step
  Eigen::ArrayXXd net_in_req_, net_out_req_;  // requested net migration, split by sign
  Eigen::ArrayXXd emig_s_, ret_s_, net_out_s_;  // start-half out-flows actually applied
  Eigen::ArrayXXd emig_e_, ret_e_, net_out_e_;  // end-half out-flows actually applied
  // Cuts of the one-pass step (Column::cuts), 8 rows of ages per column: requested (0: no cut)
  // and present, at home then abroad, at the start (by start cell) then at the end (by end cell).
  Eigen::ArrayXXd cuts_;
  // Per column, this step: 0 no cut, 1 a cut at age 0 only (newborns), 2 its cut build ran.
  std::vector<char> cut_columns_;
};

}  // namespace steppe
