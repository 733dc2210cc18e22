// SPDX-License-Identifier: MIT
// Distributions: factories with checks, inverse-CDF sampling with exact truncation, beta by
// Marsaglia–Tsang gamma variates, and the normal and incomplete-beta functions they need.
#include "steppe/distribution.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "steppe/error.hpp"

namespace steppe {

namespace {

[[noreturn]] void bad(const std::string& fn, const std::string& what) {
  throw domain_error("Distribution::" + fn + ": " + what);
}

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void require_finite(const char* fn, const char* arg, double v) {
  if (!std::isfinite(v)) bad(fn, std::string(arg) + " = " + num(v) + ", expected a finite number");
}

// Continued fraction of the regularized incomplete beta function (modified Lentz).
double beta_continued_fraction(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::abs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < eps) break;
  }
  return h;
}

// Regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

// Gamma(shape, 1) variate, Marsaglia & Tsang (2000); shape < 1 by the u^(1/shape) boost.
double gamma_variate(double shape, Rng& rng) {
  if (shape < 1.0) return gamma_variate(shape + 1.0, rng) * std::pow(rng.uniform01(), 1.0 / shape);
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = normal_quantile(rng.uniform01());
    const double t = 1.0 + c * x;
    if (t <= 0.0) continue;
    const double v = t * t * t;
    if (std::log(rng.uniform01()) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) {
    if (p == 0.0) return -std::numeric_limits<double>::infinity();
    if (p == 1.0) return std::numeric_limits<double>::infinity();
    throw domain_error("normal_quantile: p = " + num(p) + ", expected a probability in [0, 1]");
  }
  // Acklam's rational approximation (relative error 1.15e-9) ...
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00, 2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  const double p_low = 0.02425;
  double x;
  if (p < p_low) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - p_low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  // ... refined by one Halley step on Φ(x) − p to full double precision.
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

Distribution::Distribution(Kind kind, double a, double b, double c, double d)
    : kind_(kind), a_(a), b_(b), c_(c), d_(d) {}

Distribution Distribution::constant(double value) {
  require_finite("constant", "value", value);
  Distribution x(Kind::constant, value, 0, 0, 0);
  x.lower_ = x.upper_ = value;
  return x;
}

Distribution Distribution::uniform(double lo, double hi) {
  require_finite("uniform", "lo", lo);
  require_finite("uniform", "hi", hi);
  if (!(lo < hi)) bad("uniform", "expected lo < hi, got [" + num(lo) + ", " + num(hi) + "]");
  Distribution x(Kind::uniform, lo, hi, 0, 0);
  x.lower_ = lo;
  x.upper_ = hi;
  return x;
}

Distribution Distribution::normal(double mean, double sd) {
  require_finite("normal", "mean", mean);
  if (!(sd > 0.0) || !std::isfinite(sd)) bad("normal", "sd = " + num(sd) + ", expected > 0");
  return Distribution(Kind::normal, mean, sd, 0, 0);
}

Distribution Distribution::lognormal(double meanlog, double sdlog) {
  require_finite("lognormal", "meanlog", meanlog);
  if (!(sdlog > 0.0) || !std::isfinite(sdlog))
    bad("lognormal", "sdlog = " + num(sdlog) + ", expected > 0");
  Distribution x(Kind::lognormal, meanlog, sdlog, 0, 0);
  x.lower_ = 0.0;
  return x;
}

Distribution Distribution::triangular(double lo, double mode, double hi) {
  for (auto [arg, v] : {std::pair{"lo", lo}, {"mode", mode}, {"hi", hi}})
    require_finite("triangular", arg, v);
  if (!(lo < hi) || mode < lo || mode > hi)
    bad("triangular", "expected lo <= mode <= hi and lo < hi, got [" + num(lo) + ", " +
                          num(mode) + ", " + num(hi) + "]");
  Distribution x(Kind::triangular, lo, mode, hi, 0);
  x.lower_ = lo;
  x.upper_ = hi;
  return x;
}

Distribution Distribution::beta(double alpha, double beta, double lo, double hi) {
  if (!(alpha > 0.0) || !std::isfinite(alpha)) bad("beta", "alpha = " + num(alpha) + ", expected > 0");
  if (!(beta > 0.0) || !std::isfinite(beta)) bad("beta", "beta = " + num(beta) + ", expected > 0");
  require_finite("beta", "lo", lo);
  require_finite("beta", "hi", hi);
  if (!(lo < hi)) bad("beta", "expected lo < hi, got [" + num(lo) + ", " + num(hi) + "]");
  Distribution x(Kind::beta, alpha, beta, lo, hi);
  x.lower_ = lo;
  x.upper_ = hi;
  return x;
}

Distribution Distribution::choice(std::vector<double> values, std::vector<double> weights) {
  if (values.empty()) bad("choice", "expected at least one value");
  if (!weights.empty() && weights.size() != values.size())
    bad("choice", std::to_string(weights.size()) + " weights for " +
                      std::to_string(values.size()) + " values");
  if (weights.empty()) weights.assign(values.size(), 1.0);
  double total = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    require_finite("choice", "value", values[i]);
    if (!(weights[i] >= 0.0) || !std::isfinite(weights[i]))
      bad("choice", "weight " + num(weights[i]) + ", expected >= 0");
    total += weights[i];
  }
  if (!(total > 0.0)) bad("choice", "the weights sum to 0");
  Distribution x(Kind::choice, 0, 0, 0, 0);
  double run = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    run += weights[i];
    x.cumulative_.push_back(run / total);
  }
  x.cumulative_.back() = 1.0;
  x.lower_ = *std::min_element(values.begin(), values.end());
  x.upper_ = *std::max_element(values.begin(), values.end());
  x.values_ = std::move(values);
  return x;
}

double Distribution::cdf(double x) const {
  switch (kind_) {
    case Kind::constant: return x < a_ ? 0.0 : 1.0;
    case Kind::uniform: return std::clamp((x - a_) / (b_ - a_), 0.0, 1.0);
    case Kind::normal: return normal_cdf((x - a_) / b_);
    case Kind::lognormal: return x <= 0.0 ? 0.0 : normal_cdf((std::log(x) - a_) / b_);
    case Kind::triangular: {
      const double lo = a_, mode = b_, hi = c_;
      if (x <= lo) return 0.0;
      if (x >= hi) return 1.0;
      if (x <= mode) return (x - lo) * (x - lo) / ((hi - lo) * (mode - lo));
      return 1.0 - (hi - x) * (hi - x) / ((hi - lo) * (hi - mode));
    }
    case Kind::beta: return incomplete_beta(a_, b_, (x - c_) / (d_ - c_));
    case Kind::choice: {
      double p = 0.0, prev = 0.0;
      for (std::size_t i = 0; i < values_.size(); ++i) {
        if (values_[i] <= x) p += cumulative_[i] - prev;
        prev = cumulative_[i];
      }
      return p;
    }
  }
  return 0.0;
}

double Distribution::quantile(double u) const {
  switch (kind_) {
    case Kind::constant: return a_;
    case Kind::uniform: return a_ + u * (b_ - a_);
    case Kind::normal: return a_ + b_ * normal_quantile(u);
    case Kind::lognormal: return std::exp(a_ + b_ * normal_quantile(u));
    case Kind::triangular: {
      const double lo = a_, mode = b_, hi = c_, f_mode = (mode - lo) / (hi - lo);
      if (u < f_mode) return lo + std::sqrt(u * (hi - lo) * (mode - lo));
      return hi - std::sqrt((1.0 - u) * (hi - lo) * (hi - mode));
    }
    case Kind::beta:
    case Kind::choice: break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

Distribution Distribution::truncated(double lo, double hi) const {
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    bad("truncated", "expected lo <= hi, got [" + num(lo) + ", " + num(hi) + "]");
  Distribution x = *this;
  x.lower_ = std::max(lower_, lo);
  x.upper_ = std::min(upper_, hi);
  if (x.lower_ > x.upper_)
    bad("truncated", describe() + " has no value in [" + num(lo) + ", " + num(hi) + "]");
  if (kind_ == Kind::constant) return x;
  if (kind_ == Kind::choice) {
    std::vector<double> v, w;
    double prev = 0.0;
    for (std::size_t i = 0; i < values_.size(); ++i) {
      if (values_[i] >= x.lower_ && values_[i] <= x.upper_) {
        v.push_back(values_[i]);
        w.push_back(cumulative_[i] - prev);
      }
      prev = cumulative_[i];
    }
    double total = 0.0;
    for (double wi : w) total += wi;
    if (v.empty() || !(total > 0.0))
      bad("truncated", describe() + " has no value in [" + num(lo) + ", " + num(hi) + "]");
    Distribution c = choice(std::move(v), std::move(w));
    return c;
  }
  // The CDF is continuous for the other kinds, so the lower bound's CDF is its left limit.
  x.u_lo_ = cdf(x.lower_);
  x.u_hi_ = cdf(x.upper_);
  const double mass = x.u_hi_ - x.u_lo_;
  // Beta is truncated by rejection, which needs a fair share of the mass to stay fast.
  const double min_mass = kind_ == Kind::beta ? 0.01 : 1e-9;
  if (!(mass >= min_mass))
    bad("truncated", describe() + " has probability " + num(mass) + " in [" + num(lo) + ", " +
                         num(hi) + "], expected at least " + num(min_mass));
  return x;
}

double Distribution::sample(Rng& rng) const {
  switch (kind_) {
    case Kind::constant: return a_;
    case Kind::choice: {
      const double u = rng.uniform01();
      const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
      return values_[std::size_t(std::min<std::ptrdiff_t>(it - cumulative_.begin(),
                                                          std::ptrdiff_t(values_.size()) - 1))];
    }
    case Kind::beta:
      for (;;) {  // rejection on the truncation; its mass is >= 1 % (checked by truncated())
        const double g1 = gamma_variate(a_, rng), g2 = gamma_variate(b_, rng);
        const double x = c_ + (d_ - c_) * (g1 / (g1 + g2));
        if (x >= lower_ && x <= upper_) return x;
      }
    default: {
      const double u = u_lo_ + (u_hi_ - u_lo_) * rng.uniform01();
      return std::clamp(quantile(u), lower_, upper_);  // clamp guards the last bit of rounding
    }
  }
}

double Distribution::at_probability(double u) const {
  if (!(u > 0.0 && u < 1.0)) bad("at_probability", "expected u in (0, 1), got " + num(u));
  switch (kind_) {
    case Kind::constant: return a_;
    case Kind::choice: {
      const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
      return values_[std::size_t(std::min<std::ptrdiff_t>(it - cumulative_.begin(),
                                                          std::ptrdiff_t(values_.size()) - 1))];
    }
    case Kind::beta: {
      // Bisection on the CDF within the truncated support: 200 halvings reach the last bit.
      const double target = u_lo_ + (u_hi_ - u_lo_) * u;
      double lo = std::max(lower_, c_), hi = std::min(upper_, d_);
      for (int it = 0; it < 200 && hi - lo > 0; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        (cdf(mid) < target ? lo : hi) = mid;
      }
      return 0.5 * (lo + hi);
    }
    default:
      return std::clamp(quantile(u_lo_ + (u_hi_ - u_lo_) * u), lower_, upper_);
  }
}

double Distribution::probability_of(double x) const {
  double u = 0.5;
  switch (kind_) {
    case Kind::constant: break;
    case Kind::choice: {  // the middle of the interval of the value nearest x
      std::size_t best = 0;
      for (std::size_t i = 1; i < values_.size(); ++i)
        if (std::abs(values_[i] - x) < std::abs(values_[best] - x)) best = i;
      u = 0.5 * ((best == 0 ? 0.0 : cumulative_[best - 1]) + cumulative_[best]);
      break;
    }
    default: {
      const double mass = u_hi_ - u_lo_;
      u = mass > 0 ? (cdf(std::clamp(x, lower_, upper_)) - u_lo_) / mass : 0.5;
    }
  }
  return std::clamp(u, 1e-15, 1.0 - 1e-15);
}

double Distribution::mean() const {
  switch (kind_) {
    case Kind::constant: return a_;
    case Kind::uniform: return 0.5 * (a_ + b_);
    case Kind::normal: return a_;
    case Kind::lognormal: return std::exp(a_ + 0.5 * b_ * b_);
    case Kind::triangular: return (a_ + b_ + c_) / 3.0;
    case Kind::beta: return c_ + (d_ - c_) * a_ / (a_ + b_);
    case Kind::choice: {
      double m = 0.0, prev = 0.0;
      for (std::size_t i = 0; i < values_.size(); ++i) {
        m += values_[i] * (cumulative_[i] - prev);
        prev = cumulative_[i];
      }
      return m;
    }
  }
  return 0.0;
}

double Distribution::sd() const {
  switch (kind_) {
    case Kind::constant: return 0.0;
    case Kind::uniform: return (b_ - a_) / std::sqrt(12.0);
    case Kind::normal: return b_;
    case Kind::lognormal: return std::sqrt(std::expm1(b_ * b_) * std::exp(2.0 * a_ + b_ * b_));
    case Kind::triangular:
      return std::sqrt((a_ * a_ + b_ * b_ + c_ * c_ - a_ * b_ - a_ * c_ - b_ * c_) / 18.0);
    case Kind::beta: {
      const double s = a_ + b_;
      return (d_ - c_) * std::sqrt(a_ * b_ / (s * s * (s + 1.0)));
    }
    case Kind::choice: {
      const double m = mean();
      double v = 0.0, prev = 0.0;
      for (std::size_t i = 0; i < values_.size(); ++i) {
        v += (values_[i] - m) * (values_[i] - m) * (cumulative_[i] - prev);
        prev = cumulative_[i];
      }
      return std::sqrt(v);
    }
  }
  return 0.0;
}

std::string Distribution::describe() const {
  std::ostringstream os;
  switch (kind_) {
    case Kind::constant: os << a_; break;
    case Kind::uniform: os << "uniform(" << a_ << ", " << b_ << ")"; break;
    case Kind::normal: os << "normal(mean " << a_ << ", sd " << b_ << ")"; break;
    case Kind::lognormal: os << "lognormal(meanlog " << a_ << ", sdlog " << b_ << ")"; break;
    case Kind::triangular: os << "triangular(" << a_ << ", " << b_ << ", " << c_ << ")"; break;
    case Kind::beta: os << "beta(" << a_ << ", " << b_ << ") on [" << c_ << ", " << d_ << "]"; break;
    case Kind::choice: {
      os << "choice(";
      for (std::size_t i = 0; i < values_.size(); ++i) os << (i ? ", " : "") << values_[i];
      os << ")";
      break;
    }
  }
  if (kind_ != Kind::constant && kind_ != Kind::choice &&
      (u_lo_ > 0.0 || u_hi_ < 1.0))
    os << " truncated to [" << lower_ << ", " << upper_ << "]";
  return os.str();
}

}  // namespace steppe
