// SPDX-License-Identifier: MIT
// calibrate_smc: likelihood tempering with resampling and random-walk Metropolis moves on
// standard-normal coordinates (see smc.hpp for the method and references).
#include "steppe/smc.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "steppe/error.hpp"
#include "steppe/rng.hpp"

namespace steppe {
namespace {

constexpr const char* loglik_path = "/log_likelihood/total";

/// The uncertain coordinates of a scenario: one per non-constant parameter, shared ones once.
std::vector<SmcCoordinate> coordinates_of(const Scenario& s) {
  std::vector<SmcCoordinate> out;
  std::map<std::string, std::size_t> shared;
  const auto params = s.parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Parameter& p = params[k];
    if (p.distribution.is_constant()) continue;
    if (!p.shared.empty()) {
      auto it = shared.find(p.shared);
      if (it != shared.end()) {
        out[it->second].parameters.push_back(int(k));
        continue;
      }
      shared.emplace(p.shared, out.size());
      out.push_back({"/distributions/" + p.shared, {int(k)}, p.distribution});
    } else {
      out.push_back({p.pointer, {int(k)}, p.distribution});
    }
  }
  return out;
}

/// ESS of weights exp(a·(ℓ_i − max ℓ)) (Kish).
double ess_at(const std::vector<double>& ll, double a, double top) {
  double s = 0.0, s2 = 0.0;
  for (double l : ll) {
    const double w = std::exp(a * (l - top));
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? s * s / s2 : 0.0;
}

double standard_normal(Rng& rng) { return normal_quantile(rng.uniform01()); }

}  // namespace

SmcResult calibrate_smc(const Scenario& scenario, const SmcOptions& o) {
  if (o.particles < 10) throw domain_error("calibrate_smc: particles = " + std::to_string(o.particles) + ", expected at least 10");
  if (!(o.ess_fraction > 0.0 && o.ess_fraction < 1.0))
    throw domain_error("calibrate_smc: ess_fraction = " + std::to_string(o.ess_fraction) + ", expected (0, 1)");
  if (o.moves < 1) throw domain_error("calibrate_smc: moves = " + std::to_string(o.moves) + ", expected >= 1");
  bool any_sd = false;
  for (const Target& t : scenario.targets()) any_sd = any_sd || t.sd >= 0;
  if (!any_sd)
    throw domain_error("calibrate_smc: the scenario has no target with a census error sd, so no likelihood");

  SmcResult r;
  r.coordinates = coordinates_of(scenario);
  if (r.coordinates.empty())
    throw domain_error("calibrate_smc: the scenario has no uncertain parameter to calibrate");
  const std::size_t N = o.particles, D = r.coordinates.size();
  std::vector<double> central;
  scenario.central(central);

  // z (N × D) → parameter values; u kept inside (0, 1) so F⁻¹ stays finite.
  auto values_of = [&](const Eigen::MatrixXd& z) {
    std::vector<std::vector<double>> v(N, central);
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j < D; ++j) {
        const double u = std::clamp(normal_cdf(z(Eigen::Index(i), Eigen::Index(j))), 1e-15, 1.0 - 1e-15);
        const double x = r.coordinates[j].prior.at_probability(u);
        for (int k : r.coordinates[j].parameters) v[i][std::size_t(k)] = x;
      }
    return v;
  };
  RunOptions run;
  run.seed = o.seed;
  run.threads = o.threads;
  run.keep = {loglik_path};
  run.only_kept = true;
  run.crisis_only = true;  // the likelihood needs the crisis run only (no counterfactual)
  run.cancel = o.cancel;
  auto evaluate = [&](const Eigen::MatrixXd& z, std::vector<double>& ll) {
    const std::vector<std::vector<double>> v = values_of(z);
    const RunResult res = run_parameter_sets(scenario, v, run);
    r.evaluations += res.draws;
    if (res.cancelled) return false;
    ll.assign(res.kept.begin(), res.kept.end());
    for (double& l : ll)
      if (std::isnan(l)) l = -std::numeric_limits<double>::infinity();
    return true;
  };

  // Stage 0: the prior.
  Eigen::MatrixXd z(static_cast<Eigen::Index>(N), static_cast<Eigen::Index>(D));
  for (std::size_t i = 0; i < N; ++i) {
    Rng rng(o.seed, i, stream_id("smc/prior"));
    for (std::size_t j = 0; j < D; ++j) z(Eigen::Index(i), Eigen::Index(j)) = standard_normal(rng);
  }
  std::vector<double> ll;
  if (!evaluate(z, ll)) {
    r.cancelled = true;
    return r;
  }

  double phi = 0.0;
  double scale = 2.38 / std::sqrt(double(D));
  for (int stage = 1; phi < 1.0; ++stage) {
    if (stage > o.max_stages)
      throw domain_error("calibrate_smc: the temperature reached only " + std::to_string(phi) +
                         " after " + std::to_string(o.max_stages) + " stages");
    const double top = *std::max_element(ll.begin(), ll.end());
    if (!std::isfinite(top))
      throw domain_error("calibrate_smc: every particle has zero likelihood");
    // Next temperature: the largest step whose incremental weights keep the target ESS.
    const double want = o.ess_fraction * double(N);
    double step = 1.0 - phi;
    if (ess_at(ll, step, top) < want) {
      double lo = 0.0, hi = step;
      for (int it = 0; it < 100; ++it) {
        const double mid = 0.5 * (lo + hi);
        (ess_at(ll, mid, top) >= want ? lo : hi) = mid;
      }
      step = std::max(lo, 1e-12);
    }
    const double next = (phi + step >= 1.0 - 1e-12) ? 1.0 : phi + step;
    step = next - phi;
    SmcStage st;
    st.temperature = next;
    st.ess = ess_at(ll, step, top);
    // Incremental weights, the evidence factor, systematic resampling.
    std::vector<double> w(N), cum(N);
    double total = 0.0;
    for (std::size_t i = 0; i < N; ++i) {
      w[i] = std::exp(step * (ll[i] - top));
      total += w[i];
      cum[i] = total;
    }
    st.log_evidence = step * top + std::log(total / double(N));
    r.log_evidence += st.log_evidence;
    {
      Rng rng(o.seed, std::uint64_t(stage), stream_id("smc/resample"));
      const double u0 = rng.uniform01();
      Eigen::MatrixXd z2(z.rows(), z.cols());
      std::vector<double> ll2(N);
      std::size_t k = 0;
      for (std::size_t i = 0; i < N; ++i) {
        const double u = (double(i) + u0) / double(N) * total;
        while (k + 1 < N && cum[k] < u) ++k;
        z2.row(Eigen::Index(i)) = z.row(Eigen::Index(k));
        ll2[i] = ll[k];
      }
      z = std::move(z2);
      ll = std::move(ll2);
    }
    phi = next;

    // Metropolis moves with the particles' covariance.
    const Eigen::RowVectorXd mean = z.colwise().mean();
    const Eigen::MatrixXd centred = z.rowwise() - mean;
    Eigen::MatrixXd cov = (centred.transpose() * centred) / double(N - 1);
    cov.diagonal().array() += 1e-10;
    const Eigen::MatrixXd chol = Eigen::LLT<Eigen::MatrixXd>(cov).matrixL();
    std::size_t accepted = 0, proposed = 0;
    std::vector<double> ll_new;
    for (int m = 0; m < o.moves; ++m) {
      Eigen::MatrixXd proposal(z.rows(), z.cols());
      std::vector<double> log_u(N);
      for (std::size_t i = 0; i < N; ++i) {
        Rng rng(o.seed, i, stream_id("smc/move") ^ (std::uint64_t(stage) << 20) ^ std::uint64_t(m));
        Eigen::VectorXd e(static_cast<Eigen::Index>(D));
        for (std::size_t j = 0; j < D; ++j) e(Eigen::Index(j)) = standard_normal(rng);
        proposal.row(Eigen::Index(i)) = z.row(Eigen::Index(i)) + scale * (chol * e).transpose();
        log_u[i] = std::log(rng.uniform01());
      }
      if (!evaluate(proposal, ll_new)) {
        r.cancelled = true;
        return r;
      }
      std::size_t acc = 0;
      for (std::size_t i = 0; i < N; ++i) {
        const double prior_ratio =
            -0.5 * (proposal.row(Eigen::Index(i)).squaredNorm() - z.row(Eigen::Index(i)).squaredNorm());
        const double a = phi * (ll_new[i] - ll[i]) + prior_ratio;
        if (std::isfinite(ll_new[i]) && log_u[i] < a) {
          z.row(Eigen::Index(i)) = proposal.row(Eigen::Index(i));
          ll[i] = ll_new[i];
          ++acc;
        }
      }
      accepted += acc;
      proposed += N;
      // Keep the acceptance rate near the random-walk optimum 0.234 (Roberts & Rosenthal 2001).
      const double rate = double(acc) / double(N);
      scale *= std::exp(rate - 0.234);
      scale = std::clamp(scale, 1e-3, 10.0);
    }
    st.acceptance = double(accepted) / double(proposed);
    r.stages.push_back(st);
    if (o.progress) o.progress(stage, phi);
  }

  r.values = values_of(z);
  r.log_likelihood = ll;
  RunOptions post;
  post.seed = o.seed;
  post.threads = o.threads;
  post.cancel = o.cancel;
  post.keep = o.keep;
  r.posterior = run_parameter_sets(scenario, r.values, post);
  r.evaluations += r.posterior.draws;
  r.cancelled = r.posterior.cancelled;
  return r;
}

}  // namespace steppe
