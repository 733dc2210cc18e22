// SPDX-License-Identifier: MIT
// Coale–Demeny tables from the reference CSV (cached), e0 interpolation and Brass logit models.
#include "steppe/model_life_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "single_year_columns.hpp"
#include "steppe/data_dir.hpp"
#include "steppe/error.hpp"

namespace steppe {
namespace {

using Eigen::ArrayXd;
using Eigen::Index;

// ---- a small CSV reader: header row, comma separator, no quoted fields in these files ----

class Csv {
 public:
  explicit Csv(const std::filesystem::path& path) : file_(path.string()) {
    std::ifstream in(path);
    if (!in) throw input_error(file_, "", "cannot open file");
    std::string line;
    if (!std::getline(in, line)) throw input_error(file_, "", "empty file, expected a header row");
    header_ = split(line);
    while (std::getline(in, line))
      if (!line.empty() && line != "\r") rows_.push_back(split(line));
  }
  std::size_t size() const { return rows_.size(); }

  /// Index of a column; input_error if the header lacks it.
  std::size_t column(const std::string& name) const {
    for (std::size_t j = 0; j < header_.size(); ++j)
      if (header_[j] == name) return j;
    throw input_error(file_, "", "missing column \"" + name + "\"");
  }
  /// The text of row r (0-based data row), column c; input_error if the row is too short.
  const std::string& text(std::size_t r, std::size_t c) const {
    if (c >= rows_[r].size())
      throw input_error(file_, pointer(r, c),
                        "row has " + std::to_string(rows_[r].size()) + " fields, expected " +
                            std::to_string(header_.size()));
    return rows_[r][c];
  }
  /// A finite number at (r, c); input_error naming "/row/<r>/<column>" otherwise.
  double number(std::size_t r, std::size_t c) const {
    const std::string& s = text(r, c);
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
      throw input_error(file_, pointer(r, c), "expected a number, got \"" + s + "\"");
    return v;
  }
  [[noreturn]] void fail(std::size_t r, std::size_t c, const std::string& reason) const {
    throw input_error(file_, pointer(r, c), reason);
  }

 private:
  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out(1);
    for (char ch : line) {
      if (ch == ',')
        out.emplace_back();
      else if (ch != '\r')
        out.back() += ch;
    }
    return out;
  }
  std::string pointer(std::size_t r, std::size_t c) const {
    return "/row/" + std::to_string(r) + "/" + (c < header_.size() ? header_[c] : "?");
  }
  std::string file_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::filesystem::path reference_file(const char* name) { return data_dir() / "reference" / name; }

// ---- Coale–Demeny levels ----

constexpr int cd_levels = 25;
constexpr int cd_ages = 21;  // 0, 1, 5, …, 95

/// The columns of one level's table that the LifeTable needs.
struct CdRaw {
  double e0 = 0, t_open = 0;  // e0 = T(0) = Σ L(0..90) + T(95); T(95) includes 100+
  ArrayXd lx = ArrayXd::Zero(cd_ages), Lx = ArrayXd::Zero(cd_ages);
  int rows = 0;
};

using CdData = std::array<CdRaw, 4 * 2 * cd_levels>;

int cd_index(CdFamily f, Sex s, int level) {
  return (static_cast<int>(f) * 2 + static_cast<int>(s)) * cd_levels + (level - 1);
}

ArrayXd cd_ages_array() {
  ArrayXd a(cd_ages);
  a[0] = 0;
  for (int i = 1; i < cd_ages; ++i) a[i] = i == 1 ? 1 : 5 * (i - 1);
  return a;
}

CdData load_cd(const std::filesystem::path& path) {
  const Csv csv(path);
  const std::size_t cf = csv.column("family"), cs = csv.column("sex"), cl = csv.column("level"),
                    ca = csv.column("age"), cx = csv.column("lx"), cL = csv.column("Lx"),
                    cT = csv.column("Tx");
  const ArrayXd ages = cd_ages_array();
  CdData data;
  for (std::size_t r = 0; r < csv.size(); ++r) {
    int f = 0;
    while (f < 4 && csv.text(r, cf) != to_string(static_cast<CdFamily>(f))) ++f;
    if (f == 4)
      csv.fail(r, cf, "expected West, North, East or South, got \"" + csv.text(r, cf) + "\"");
    const std::string& s = csv.text(r, cs);
    if (s != "F" && s != "M") csv.fail(r, cs, "expected F or M, got \"" + s + "\"");
    const double level = csv.number(r, cl);
    if (level != std::floor(level) || level < 1 || level > cd_levels)
      csv.fail(r, cl, "expected a level 1..25, got " + csv.text(r, cl));
    const double age = csv.number(r, ca);
    const Index i = std::find(ages.data(), ages.data() + cd_ages, age) - ages.data();
    if (i == cd_ages) csv.fail(r, ca, "expected an age 0, 1, 5, 10, ..., 95");
    CdRaw& t = data[std::size_t(
        cd_index(static_cast<CdFamily>(f), s == "F" ? Sex::female : Sex::male, int(level)))];
    t.lx[i] = csv.number(r, cx);
    t.Lx[i] = csv.number(r, cL);
    if (i == cd_ages - 1) t.t_open = csv.number(r, cT);
    ++t.rows;
  }
  for (CdRaw& t : data) {
    if (t.rows != cd_ages)
      throw input_error(path.string(), "", "every family, sex and level needs 21 age rows");
    // e0 of the table as built (not the file's rounded e0 column), so that the e0 interpolation
    // weight is exact; the two differ by < 1e-6 y.
    t.e0 = t.Lx.head(cd_ages - 1).sum() + t.t_open;
  }
  return data;
}

const CdData& cd_data() {
  static const CdData data = load_cd(reference_file("mlt_coale_demeny_levels.csv"));
  return data;
}

/// LifeTable from l, L (closed) and T(95): a(x) from L, open rate l95/T95.
LifeTable cd_table(const ArrayXd& lx, const ArrayXd& Lx, double t_open) {
  const ArrayXd ages = cd_ages_array();
  ArrayXd a(cd_ages - 1);
  for (int i = 0; i + 1 < cd_ages; ++i) {
    const double n = ages[i + 1] - ages[i], d = lx[i] - lx[i + 1];
    a[i] = d > 0 ? (Lx[i] - n * lx[i + 1]) / d : n / 2;
  }
  return LifeTable::from_lx(ages, lx, AxRule::given(a), lx[cd_ages - 1] / t_open);
}

// ---- Brass ----

/// Brass logit Y = ½ ln((1 − l)/l); ±∞ at l = 0 and l = 1.
ArrayXd brass_y(const ArrayXd& l) { return 0.5 * ((1.0 - l) / l).log(); }

}  // namespace

const char* to_string(CdFamily f) noexcept {
  switch (f) {
    case CdFamily::west:
      return "West";
    case CdFamily::north:
      return "North";
    case CdFamily::east:
      return "East";
    case CdFamily::south:
      return "South";
  }
  return "?";
}

LifeTable coale_demeny(CdFamily family, Sex sex, int level) {
  if (level < 1 || level > cd_levels)
    throw domain_error("coale_demeny: level = " + std::to_string(level) + ", expected 1..25");
  const CdRaw& t = cd_data()[std::size_t(cd_index(family, sex, level))];
  return cd_table(t.lx, t.Lx, t.t_open);
}

LifeTable coale_demeny_e0(CdFamily family, Sex sex, double e0) {
  const CdData& data = cd_data();
  const auto& lo = data[std::size_t(cd_index(family, sex, 1))];
  const auto& hi = data[std::size_t(cd_index(family, sex, cd_levels))];
  constexpr double slack = 1e-9;  // years: a table's own e0 recomputed may differ by rounding
  if (!(e0 >= lo.e0 - slack && e0 <= hi.e0 + slack))
    throw domain_error("coale_demeny_e0: e0 = " + std::to_string(e0) + ", expected a value in [" +
                       std::to_string(lo.e0) + ", " + std::to_string(hi.e0) + "] for " +
                       to_string(family) + " " + to_string(sex));
  int level = 1;  // the bracket [level, level + 1] with e0(level) <= e0 <= e0(level + 1)
  while (level < cd_levels - 1 && data[std::size_t(cd_index(family, sex, level + 1))].e0 < e0)
    ++level;
  const CdRaw& a = data[std::size_t(cd_index(family, sex, level))];
  const CdRaw& b = data[std::size_t(cd_index(family, sex, level + 1))];
  // e0 = Σ L is linear in the mixture weight, so w is exact in closed form
  const double w = std::clamp((e0 - a.e0) / (b.e0 - a.e0), 0.0, 1.0);
  return cd_table((1 - w) * a.lx + w * b.lx, (1 - w) * a.Lx + w * b.Lx,
                  (1 - w) * a.t_open + w * b.t_open);
}

bool detail::coale_demeny_e0_single_year(CdFamily family, Sex sex, double e0, int upto,
                                         SingleYearColumns& out) {
  // coale_demeny_e0: the bracketing levels and the mixture weight, as there.
  static const ArrayXd ages = cd_ages_array();
  const CdData& data = cd_data();
  const auto& lo = data[std::size_t(cd_index(family, sex, 1))];
  const auto& hi = data[std::size_t(cd_index(family, sex, cd_levels))];
  constexpr double slack = 1e-9;
  if (!(e0 >= lo.e0 - slack && e0 <= hi.e0 + slack)) return false;
  int level = 1;
  while (level < cd_levels - 1 && data[std::size_t(cd_index(family, sex, level + 1))].e0 < e0)
    ++level;
  const CdRaw& ta = data[std::size_t(cd_index(family, sex, level))];
  const CdRaw& tb = data[std::size_t(cd_index(family, sex, level + 1))];
  const double w = std::clamp((e0 - ta.e0) / (tb.e0 - ta.e0), 0.0, 1.0);
  // The mixed l(x), L(x) and T(95), then cd_table's a(x) and open rate, and from_lx's q(x),
  // element by element; where from_lx would reject the mixture, the general path throws.
  std::array<double, cd_ages> lx, q, a;
  for (int i = 0; i < cd_ages; ++i) lx[i] = (1 - w) * ta.lx[i] + w * tb.lx[i];
  const double t_open = (1 - w) * ta.t_open + w * tb.t_open;
  const double m_open = lx[cd_ages - 1] / t_open;
  if (!(std::isfinite(m_open) && m_open > 0) || !(std::isfinite(lx[0]) && lx[0] > 0))
    return false;
  for (int i = 0; i + 1 < cd_ages; ++i) {
    const double n = ages[i + 1] - ages[i], d = lx[i] - lx[i + 1];
    const double L = (1 - w) * ta.Lx[i] + w * tb.Lx[i];
    a[i] = d > 0 ? (L - n * lx[i + 1]) / d : n / 2;
    if (!(lx[i + 1] >= 0 && lx[i + 1] <= lx[i]) || !(a[i] > 0 && a[i] <= n)) return false;
  }
  for (int i = 0; i + 1 < cd_ages; ++i) {
    const double li = lx[i] / lx[0], lnext = lx[i + 1] / lx[0];
    q[i] = li > 0 ? std::clamp(1 - lnext / li, 0.0, 1.0) : 1.0;
  }
  const int omega = std::max(upto, int(ages[cd_ages - 1]));
  detail::single_year_columns(ages.data(), q.data(), a.data(), cd_ages, m_open, omega, out);
  return true;
}

namespace {
std::pair<ArrayXd, ArrayXd> read_brass_ages_lx(const std::filesystem::path& path) {
  const Csv csv(path);
  const std::size_t ca = csv.column("age"), cy = csv.column("Ys");
  if (csv.size() != 100) throw input_error(path.string(), "", "expected 100 rows, ages 0..99");
  ArrayXd age(100), l(100);
  for (std::size_t r = 0; r < 100; ++r) {
    age[Index(r)] = csv.number(r, ca);
    if (age[Index(r)] != double(r)) csv.fail(r, ca, "expected age " + std::to_string(r));
    // l from the printed logit: keeps l(99) > 0 where the printed 4-decimal l is 0
    l[Index(r)] = r == 0 ? 1.0 : 1.0 / (1.0 + std::exp(2.0 * csv.number(r, cy)));
  }
  return {age, l};
}
}  // namespace

LifeTable detail::read_brass_standard(const std::filesystem::path& file, const AxRule& rule) {
  const auto [age, l] = read_brass_ages_lx(file);
  return LifeTable::from_lx(age, l, rule);
}

LifeTable brass_general_standard(const AxRule& rule) {
  static const std::pair<ArrayXd, ArrayXd> age_l =
      read_brass_ages_lx(reference_file("brass_general_standard.csv"));
  return LifeTable::from_lx(age_l.first, age_l.second, rule);
}

LifeTable brass_logit(const LifeTable& standard, double alpha, double beta) {
  if (!std::isfinite(alpha))
    throw domain_error("brass_logit: alpha = " + std::to_string(alpha) + ", expected finite");
  if (!(std::isfinite(beta) && beta > 0))
    throw domain_error("brass_logit: beta = " + std::to_string(beta) + ", expected finite and > 0");
  const Index N = standard.size(), k = N - 1;
  const ArrayXd y = alpha + beta * brass_y(standard.lx());
  ArrayXd l = 1.0 / (1.0 + (2.0 * y).exp());
  l[0] = 1.0;
  for (Index i = 1; i < N; ++i) l[i] = std::min(l[i], l[i - 1]);  // guard against rounding
  const LifeTable shape =
      LifeTable::from_lx(standard.age(), l, AxRule::given(standard.ax()), standard.mx()[k]);
  const double scale = shape.mx()[k - 1] / standard.mx()[k - 1];
  if (!(std::isfinite(scale) && scale > 0)) return shape;
  return LifeTable::from_lx(standard.age(), l, AxRule::given(standard.ax()),
                            scale * standard.mx()[k]);
}

double brass_fit_alpha_for_e0(const LifeTable& standard, double beta, double target_e0) {
  double lo = -10, hi = 10;  // e0(lo) > e0(hi)
  const double e_lo = brass_logit(standard, lo, beta).e0(),
               e_hi = brass_logit(standard, hi, beta).e0();
  if (!(target_e0 <= e_lo && target_e0 >= e_hi))
    throw domain_error("brass_fit_alpha_for_e0: target_e0 = " + std::to_string(target_e0) +
                       ", expected a value in [" + std::to_string(e_hi) + ", " +
                       std::to_string(e_lo) + "] (alpha in [-10, 10])");
  while (hi - lo > 1e-12) {
    const double mid = 0.5 * (lo + hi), e = brass_logit(standard, mid, beta).e0();
    if (std::abs(e - target_e0) < 1e-9) return mid;
    (e > target_e0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace steppe
