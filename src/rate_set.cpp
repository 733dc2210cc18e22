// SPDX-License-Identifier: MIT
// RateSet construction (identity rates) and validation of shapes and domains.
#include "steppe/rate_set.hpp"

#include <cmath>
#include <sstream>

#include "steppe/error.hpp"

namespace steppe {

RateSet::RateSet(const Dims& dims) {
  const Eigen::Index A = dims.n_ages(), C = dims.n_cols(), G = dims.n_groups();
  survivorship = Eigen::ArrayXXd::Ones(A, C);
  birth_survivorship = Eigen::ArrayXd::Ones(C);
  survivorship_abroad = Eigen::ArrayXXd::Ones(A, C);
  birth_survivorship_abroad = Eigen::ArrayXd::Ones(C);
  asfr = Eigen::ArrayXXd::Zero(A, G);
  srb = Eigen::ArrayXd::Constant(G, 1.05);
}

bool RateSet::has_crisis() const noexcept {
  for (const Eigen::ArrayXXd* a : {&crisis_survivorship, &crisis_survivorship_abroad,
                                   &emigration_rate, &emigration_count, &return_rate,
                                   &return_count, &immigration_count})
    if (a->size()) return true;
  return crisis_birth_survivorship.size() || crisis_birth_survivorship_abroad.size() ||
         fertility_multiplier.size();
}

namespace {

enum class Domain { probability, non_negative, signed_finite, proportion_signed };

std::string where(const Dims& dims, const char* field, Eigen::Index row, Eigen::Index col,
                  bool by_group) {
  std::ostringstream os;
  os << "RateSet::" << field << ": ";
  if (by_group) {
    os << "group \"" << dims.group_name(int(col)) << "\"";
  } else {
    os << "group \"" << dims.group_name(int(col / 2)) << "\", " << to_string(Sex(col % 2));
  }
  if (row >= 0) os << ", age cell " << row;
  return os.str();
}

template <class Arr>
void check(const Dims& dims, const char* field, const Arr& a, Eigen::Index rows, Eigen::Index cols,
           Domain domain, bool by_group = false) {
  if (a.rows() != rows || a.cols() != cols) {
    std::ostringstream os;
    os << "RateSet::" << field << ": expected shape " << rows << " x " << cols << ", got "
       << a.rows() << " x " << a.cols();
    throw domain_error(os.str());
  }
  for (Eigen::Index c = 0; c < a.cols(); ++c)
    for (Eigen::Index x = 0; x < a.rows(); ++x) {
      const double v = a(x, c);
      const char* expected = nullptr;
      if (!std::isfinite(v)) expected = "a finite number";
      else if (domain == Domain::probability && (v < 0.0 || v > 1.0))
        expected = "a probability in [0, 1]";
      else if (domain == Domain::non_negative && v < 0.0)
        expected = "a number >= 0";
      else if (domain == Domain::proportion_signed && v < -1.0)
        expected = "a proportion >= -1";
      if (expected) {
        std::ostringstream os;
        os << where(dims, field, rows > 1 ? x : -1, c, by_group)
           << ": expected " << expected << ", got " << v;
        throw domain_error(os.str());
      }
    }
}

}  // namespace

void RateSet::validate(const Dims& dims) const {
  const Eigen::Index A = dims.n_ages(), C = dims.n_cols(), G = dims.n_groups();
  check(dims, "survivorship", survivorship, A, C, Domain::probability);
  // Per-column vectors are checked as 1-row arrays, so messages name no age.
  check(dims, "birth_survivorship", birth_survivorship.transpose(), 1, C, Domain::probability);
  check(dims, "asfr", asfr, A, G, Domain::non_negative, true);
  check(dims, "srb", srb.transpose(), 1, G, Domain::non_negative, true);
  auto optional = [&](const char* field, const auto& a, Eigen::Index rows, Eigen::Index cols,
                      Domain d, bool by_group = false) {
    if (a.size()) check(dims, field, a, rows, cols, d, by_group);
  };
  optional("survivorship_abroad", survivorship_abroad, A, C, Domain::probability);
  optional("birth_survivorship_abroad", birth_survivorship_abroad.transpose(), 1, C,
           Domain::probability);
  optional("asfr_abroad", asfr_abroad, A, G, Domain::non_negative, true);
  for (Eigen::Index g = 0; g < G; ++g) {
    const double abroad0 = asfr_abroad.size() ? asfr_abroad(0, g) : 0.0;
    if (asfr(0, g) != 0.0 || abroad0 != 0.0)
      throw domain_error(where(dims, "asfr", 0, g, true) +
                         ": expected 0 (no mothers in the first age cell), got " +
                         std::to_string(asfr(0, g) != 0.0 ? asfr(0, g) : abroad0));
  }
  optional("net_migration_rate", net_migration_rate, A, C, Domain::proportion_signed);
  optional("net_migration_count", net_migration_count, A, C, Domain::signed_finite);
  optional("crisis_survivorship", crisis_survivorship, A, C, Domain::probability);
  optional("crisis_survivorship_abroad", crisis_survivorship_abroad, A, C, Domain::probability);
  optional("crisis_birth_survivorship", crisis_birth_survivorship.transpose(), 1, C,
           Domain::probability);
  optional("crisis_birth_survivorship_abroad", crisis_birth_survivorship_abroad.transpose(), 1, C,
           Domain::probability);
  optional("fertility_multiplier", fertility_multiplier.transpose(), 1, G, Domain::non_negative,
           true);
  optional("emigration_rate", emigration_rate, A, C, Domain::probability);
  optional("emigration_count", emigration_count, A, C, Domain::non_negative);
  optional("return_rate", return_rate, A, C, Domain::probability);
  optional("return_count", return_count, A, C, Domain::non_negative);
  optional("immigration_count", immigration_count, A, C, Domain::non_negative);
}

}  // namespace steppe
