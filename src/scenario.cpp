// SPDX-License-Identifier: MIT
// Scenario: loading (through the parser in src/io/scenario_json.cpp), sampling, and building one
// draw's engine inputs. Conventions (documented in scenarios/README.md):
//   - a step's value of a time series is the series' mean over the step's span;
//   - rates per year become probabilities per step as 1 − (1 − p)^width; counts per year are
//     multiplied by width; a signed net-migration rate per year is multiplied by width;
//   - excess mortality: hazard multiplier m(x, s) = 1 + intensity · (RR(x, s) − 1), applied as
//     S^m (shock.hpp); components that are zero in a step are left absent (so steps without a
//     crisis are shared by the crisis run and its counterfactual).
#include <cmath>
#include <limits>
#include <fstream>
#include <sstream>

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
LifeTable life_table(const detail::MortalitySpec& m, int sex, std::span<const double> v, double t0,
                     double t1) {
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
      break;
  }
  return *m.table[std::size_t(sex)];
}

/// What determines a group-sex's baseline life table in a step (to reuse it across steps).
std::array<double, 2> mortality_key(const detail::MortalitySpec& m, int sex,
                                    std::span<const double> v, double t0, double t1) {
  using Kind = detail::MortalitySpec::Kind;
  if (m.kind == Kind::coale_demeny) return {m.e0[std::size_t(sex)].mean(v, t0, t1), 0.0};
  if (m.kind == Kind::brass)
    return {m.alpha[std::size_t(sex)].mean(v, t0, t1),
            m.beta[std::size_t(sex)].empty() ? 1.0 : m.beta[std::size_t(sex)].mean(v, t0, t1)};
  return {0.0, 0.0};
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

/// Stable-population age weights from a single-year table: person-years L(y)·e^{−r(y+½)} summed
/// over the single years of each cell; the open cell T(O)·e^{−r(O + e(O)/2)}.
Eigen::ArrayXd stable_weights(const LifeTable& single, const AgeAxis& axis, double r) {
  const int open = axis.open_age();
  Eigen::ArrayXd w(axis.count);
  for (int cell = 0; cell < axis.count - 1; ++cell) {
    double sum = 0;
    for (int y = axis.lower(cell); y < axis.lower(cell) + axis.width; ++y)
      sum += single.Lx()[y] * std::exp(-r * (y + 0.5));
    w[cell] = sum;
  }
  const double t_open = single.Tx()[open];
  const double l_open = single.lx()[open];
  const double e_open = l_open > 0 ? t_open / l_open : 0.0;
  w[axis.count - 1] = t_open * std::exp(-r * (open + 0.5 * e_open));
  return w;
}

void shape_or_empty(Eigen::ArrayXXd& a, Eigen::Index rows, Eigen::Index cols, bool present,
                    double fill) {
  if (!present) {
    a.resize(0, 0);
    return;
  }
  a.resize(rows, cols);
  a.setConstant(fill);
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
  return Scenario(detail::parse_scenario(std::move(doc), file.string(), overrides));
}

Scenario Scenario::parse(const std::string& json_text, const std::filesystem::path& file,
                         const std::vector<std::string>& overrides) {
  detail::ResolvedJson doc;
  try {
    doc = detail::resolve_text(json_text, file);
  } catch (const input_error& e) {
    throw scenario_errors({e});
  }
  return Scenario(detail::parse_scenario(std::move(doc), file.string(), overrides));
}

const std::string& Scenario::file() const noexcept { return impl_->file; }
const ScenarioMeta& Scenario::meta() const noexcept { return impl_->meta; }
const Dims& Scenario::dims() const noexcept { return impl_->dims; }
const ProjectorOptions& Scenario::projector_options() const noexcept { return impl_->options; }
std::span<const StepTime> Scenario::steps() const noexcept { return impl_->steps; }
std::span<const Parameter> Scenario::parameters() const noexcept { return impl_->parameters; }
std::span<const Target> Scenario::targets() const noexcept { return impl_->targets; }
const OutputSpec& Scenario::outputs() const noexcept { return impl_->outputs; }

bool Scenario::has_uncertainty() const noexcept {
  for (const Parameter& p : impl_->parameters)
    if (!p.distribution.is_constant()) return true;
  return false;
}

void Scenario::sample(std::uint64_t seed, std::uint64_t draw, std::vector<double>& values) const {
  const auto& ps = impl_->parameters;
  values.resize(ps.size());
  for (std::size_t k = 0; k < ps.size(); ++k) {
    if (ps[k].distribution.is_constant()) {
      values[k] = ps[k].distribution.mean();
      continue;
    }
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

void Scenario::build(std::span<const double> v, ModelInputs& out) const {
  const Impl& s = *impl_;
  const Dims& dims = s.dims;
  const AgeAxis& axis = dims.ages();
  const Eigen::Index A = dims.n_ages(), C = dims.n_cols(), G = dims.n_groups();
  const int width = axis.width;
  const std::size_t K = s.steps.size();
  STEPPE_ASSERT(v.size() == s.parameters.size());
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
  }
  std::vector<detail::BuildCache::Column>& memo = out.cache->columns;
  Eigen::ArrayXd multiplier_col(A);

  for (std::size_t k = 0; k < K; ++k) {
    const double t0 = s.steps[k].start, t1 = s.steps[k].end;
    RateSet& r = out.rates[k];
    r.survivorship.resize(A, C);
    r.birth_survivorship.resize(C);
    r.asfr.resize(A, G);
    r.srb.resize(G);
    shape_or_empty(r.asfr_abroad, A, G, any_births_abroad, 0.0);
    shape_or_empty(r.net_migration_rate, A, C, any_net_rate, 0.0);
    shape_or_empty(r.net_migration_count, A, C, any_net_count, 0.0);
    for (Eigen::ArrayXXd* a : {&r.crisis_survivorship, &r.crisis_survivorship_abroad,
                               &r.emigration_rate, &r.emigration_count, &r.return_rate,
                               &r.return_count, &r.immigration_count})
      a->resize(0, 0);
    r.crisis_birth_survivorship.resize(0);
    r.crisis_birth_survivorship_abroad.resize(0);
    r.fertility_multiplier.resize(0);

    for (Eigen::Index g = 0; g < G; ++g) {
      const detail::GroupSpec& gs = s.groups[std::size_t(g)];
      for (int sex = 0; sex < 2; ++sex) {
        const int c = Dims::col(Sex(sex), int(g));
        const auto key = mortality_key(gs.mortality, sex, v, t0, t1);
        detail::BuildCache::Column& m = memo[std::size_t(c)];
        if (!m.valid || key != m.key) {
          m.single = single_year_table(life_table(gs.mortality, sex, v, t0, t1), axis);
          m.survivorship = m.single->projection_survivorship(axis);
          m.birth_survivorship = m.single->birth_survivorship(width);
          m.log_survivorship = m.survivorship.max(std::numeric_limits<double>::min()).log();
          m.key = key;
          m.valid = true;
        }
        r.survivorship.col(c) = m.survivorship;
        r.birth_survivorship[c] = m.birth_survivorship;
        if (k == 0) {
          const detail::InitialSpec& in = gs.initial;
          if (in.stable) {
            const std::array<double, 3> sk{key[0], key[1], v[std::size_t(in.growth_rate)]};
            if (!m.stable_valid || sk != m.stable_key) {
              m.stable_weights = stable_weights(*m.single, axis, sk[2]);
              m.stable_key = sk;
              m.stable_valid = true;
            }
          }
        }
      }
      const detail::FertilitySpec& f = gs.fertility;
      const double tfr = f.tfr.mean(v, t0, t1);
      r.asfr.col(g) = asfr_from_tfr(tfr, f.pattern_share, axis);
      r.srb[g] = v[std::size_t(f.srb)];
      if (any_births_abroad && f.births_abroad) r.asfr_abroad.col(g) = r.asfr.col(g);

      const detail::FlowSpec& m = gs.migration;
      if (m.present) {
        const double amount = m.amount.mean(v, t0, t1);
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          if (m.is_rate) {
            r.net_migration_rate.col(c) = amount * width * m.pattern.col(sex);
            if ((r.net_migration_rate.col(c) < -1.0).any())
              fail_at(m.amount, "a net migration rate of " + num(amount) +
                                    " per year takes more than everybody out of some age cell");
          } else {
            const double fs = v[std::size_t(m.female_share)];
            r.net_migration_count.col(c) =
                amount * width * (sex == 0 ? fs : 1.0 - fs) * m.pattern.col(sex);
          }
        }
      }
    }
    r.survivorship_abroad = r.survivorship;
    r.birth_survivorship_abroad = r.birth_survivorship;

    // ---- crisis components, present only where non-zero in this step ----
    // Crisis survivorship S^m = exp(m·ln S) with ln S kept from the baseline (as shock.hpp's
    // set_mortality_multiplier computes it, without recomputing ln S in every crisis step).
    for (int abroad = 0; abroad < 2; ++abroad) {
      Eigen::ArrayXXd& crisis = abroad ? r.crisis_survivorship_abroad : r.crisis_survivorship;
      Eigen::ArrayXd& crisis_birth =
          abroad ? r.crisis_birth_survivorship_abroad : r.crisis_birth_survivorship;
      for (Eigen::Index g = 0; g < G; ++g) {
        const detail::ShockSpec& sh = abroad ? s.crisis[std::size_t(g)].mortality_abroad
                                             : s.crisis[std::size_t(g)].mortality;
        if (!sh.present) continue;
        const double intensity = sh.intensity.mean(v, t0, t1);
        if (intensity == 0.0) continue;
        if (crisis.size() == 0) {
          crisis = r.survivorship;
          crisis_birth = r.birth_survivorship;
        }
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          multiplier_col = 1.0 + intensity * (sh.relative_risk.col(sex) - 1.0);
          if ((multiplier_col < 0.0).any())
            fail_at(sh.intensity, "intensity " + num(intensity) +
                                      " with a relative risk below 1 gives a negative hazard "
                                      "multiplier 1 + intensity·(RR − 1)");
          crisis.col(c) = (r.survivorship.col(c) > 0.0)
                              .select((multiplier_col * memo[std::size_t(c)].log_survivorship).exp(), 0.0);
          const double sb = r.birth_survivorship[c];
          crisis_birth[c] = sb > 0.0 ? std::exp(multiplier_col[0] * std::log(sb)) : 0.0;
        }
      }
    }
    for (Eigen::Index g = 0; g < G; ++g) {
      const detail::CrisisSpec& cs = s.crisis[std::size_t(g)];
      if (!cs.fertility_reduction.empty()) {
        const double reduction = cs.fertility_reduction.mean(v, t0, t1);
        if (reduction != 0.0) {
          if (reduction > 1.0) fail_at(cs.fertility_reduction, "a fertility reduction above 1");
          if (r.fertility_multiplier.size() == 0) r.fertility_multiplier.setOnes(G);
          r.fertility_multiplier[g] = 1.0 - reduction;
        }
      }
      for (const detail::FlowSpec* f : {&cs.flight, &cs.in_migration}) {
        if (!f->present) continue;
        const double amount = f->amount.mean(v, t0, t1);
        if (amount == 0.0) continue;
        const bool flight = f == &cs.flight;
        for (int sex = 0; sex < 2; ++sex) {
          const int c = Dims::col(Sex(sex), int(g));
          if (f->is_rate) {
            if (amount > 1.0) fail_at(f->amount, "a flight rate of " + num(amount) + " per year");
            if (r.emigration_rate.size() == 0) r.emigration_rate.setZero(A, C);
            r.emigration_rate.col(c) = per_step(amount, width) * f->pattern.col(sex);
            if ((r.emigration_rate.col(c) > 1.0).any())
              fail_at(f->amount, "a flight rate of " + num(amount) +
                                     " per year times its age pattern exceeds 1 at some age");
          } else {
            const double fs = v[std::size_t(f->female_share)];
            Eigen::ArrayXXd& target = flight ? r.emigration_count : r.immigration_count;
            if (target.size() == 0) target.setZero(A, C);
            target.col(c) = amount * width * (sex == 0 ? fs : 1.0 - fs) * f->pattern.col(sex);
          }
        }
      }
      if (!cs.return_rate.empty()) {
        const double p = cs.return_rate.mean(v, t0, t1);
        if (p != 0.0) {
          if (r.return_rate.size() == 0) r.return_rate.setZero(A, C);
          for (int sex = 0; sex < 2; ++sex)
            r.return_rate.col(Dims::col(Sex(sex), int(g))).setConstant(per_step(p, width));
        }
      }
    }
  }

  // ---- initial population ----
  if (!(out.initial.dims() == dims)) out.initial = Population(dims);
  for (Eigen::Index g = 0; g < G; ++g) {
    const detail::InitialSpec& in = s.groups[std::size_t(g)].initial;
    for (int sex = 0; sex < 2; ++sex) {
      const int c = Dims::col(Sex(sex), int(g));
      double total = v[std::size_t(in.totals[std::size_t(sex)])];
      if (in.undercount[std::size_t(sex)] >= 0)
        total /= 1.0 - v[std::size_t(in.undercount[std::size_t(sex)])];
      Eigen::ArrayXd w;
      if (in.stable) {
        w = memo[std::size_t(c)].stable_weights;
      } else {
        w = in.shape.col(sex);
      }
      w /= w.sum();
      out.initial.home().col(c) = total * w;
      const double abroad = in.abroad[0] >= 0 ? v[std::size_t(in.abroad[std::size_t(sex)])] : 0.0;
      out.initial.abroad().col(c) = abroad * w;
    }
  }
}

}  // namespace steppe
