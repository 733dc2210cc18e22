// SPDX-License-Identifier: MIT
// The cohort-component step: migration (start share), survival and births, migration (end share).
// Absent (empty) components of the RateSet are skipped, so a baseline step costs a few passes.
#include "steppe/projector.hpp"

#include <string>

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

Projector::Projector(Dims dims, ProjectorOptions options)
    : dims_(std::move(dims)), options_(options), mid_(dims_) {
  const Eigen::Index A = dims_.n_ages(), C = dims_.n_cols();
  for (Eigen::ArrayXXd* a : {&emig_req_, &ret_req_, &net_in_req_, &net_out_req_, &emig_s_,
                             &ret_s_, &net_out_s_, &emig_e_, &ret_e_, &net_out_e_})
    a->setZero(A, C);
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

void Projector::step(const Population& in, const RateSet& r, Population& out, Flows& f,
                     Regime regime) {
  const Eigen::Index A = dims_.n_ages(), C = dims_.n_cols();
  STEPPE_ASSERT(&in != &out);
  STEPPE_ASSERT(in.home().rows() == A && in.home().cols() == C);
  STEPPE_ASSERT(out.home().rows() == A && out.home().cols() == C);
  STEPPE_ASSERT(r.survivorship.rows() == A && r.survivorship.cols() == C);
  STEPPE_ASSERT(f.deaths.rows() == A && f.deaths.cols() == C);
  (void)C;

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
    survive(shocked_abroad ? r.crisis_survivorship_abroad : r.survivorship_abroad,
            *abroad_at_risk, out.abroad(), f.deaths_abroad);
    if (shocked_abroad)
      expected_deaths(r.survivorship_abroad, *abroad_at_risk, f.baseline_deaths_abroad);
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
                                    : r.birth_survivorship_abroad;
    out.abroad().row(0) = (f.births_abroad * sba).transpose();
    f.deaths_abroad.row(0) = f.births_abroad.transpose() - out.abroad().row(0);
    f.baseline_deaths_abroad.row(0) =
        (f.births_abroad * (1.0 - r.birth_survivorship_abroad)).transpose();
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
}

}  // namespace steppe
