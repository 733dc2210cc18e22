// SPDX-License-Identifier: MIT
// Output of a deterministic projection: the Trajectory observer that records it, CSV writers
// for populations and flows, and an all-or-nothing file writer (temp file + rename).
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "steppe/flows.hpp"
#include "steppe/population.hpp"

namespace steppe {

/// Observer that keeps the whole path of a projection by age: the population at the start and at
/// the end of every step, and every step's flows (copies). Memory O(steps × cells): meant for the
/// deterministic `steppe project` run, not for sweeps (use Accounts there).
/// Call as obs(end_of_step, year_at_end, flows); pass by reference to project().
class Trajectory {
 public:
  /// Starts the record with the population at `start_year`.
  Trajectory(const Population& initial, int start_year)
      : dims_(initial.dims()), years_{start_year}, populations_{initial} {}

  /// Records one step (the observer call). Copies `end` and `flows`.
  void operator()(const Population& end, int year_at_end, const Flows& flows) {
    years_.push_back(year_at_end);
    populations_.push_back(end);
    flows_.push_back(flows);
  }

  const Dims& dims() const noexcept { return dims_; }
  /// steps()+1 years: start_year, then the year at the end of each step.
  const std::vector<int>& years() const noexcept { return years_; }
  /// steps()+1 populations, populations()[k] at years()[k].
  const std::vector<Population>& populations() const noexcept { return populations_; }
  /// steps() flows, flows()[k] over (years()[k], years()[k+1]].
  const std::vector<Flows>& flows() const noexcept { return flows_; }
  int steps() const noexcept { return int(flows_.size()); }

 private:
  Dims dims_;
  std::vector<int> years_;
  std::vector<Population> populations_;
  std::vector<Flows> flows_;
};

/// Population CSV, one row per (year, group, sex, age cell), header
///   year,group,sex,age,population,population_abroad
/// `year` is the calendar year of the count (start year, then the end of each step); `age` is the
/// lower bound of the age cell in years (the last cell is open: age ≥ that bound); `sex` is
/// "female" or "male"; counts are persons, shortest round-trip decimal.
/// @throws error if the stream fails. Complexity: O(steps × cells).
void write_population_csv(std::ostream& out, const Trajectory& trajectory);

/// Flows CSV, one row per (step, group, sex, age cell), header
///   year,group,sex,age,deaths,deaths_abroad,baseline_deaths,baseline_deaths_abroad,
///   births,births_abroad,baseline_births,emigrants,returnees,immigrants,net_migrants,clamped
/// `year` is the year at the END of the step; the step covers (year − width, year].
/// Lexis convention (flows.hpp): `age` is the cohort's age cell at the END of the step, so each
/// row holds the flows of those who were in the cell below at the start (age 0: born during the
/// step; the open cell: the last two start cells). Births are by sex of the child and appear on
/// the age-0 row only (0 elsewhere). With it the books balance row by row:
///   population(year, age) = population(year − width, age − width) + births + immigrants
///                           + returnees + net_migrants − deaths − emigrants.
/// `clamped` is the step's total of persons cut from out-flows (same value on every row of the
/// step; see Flows::clamped_persons).
/// @throws error if the stream fails. Complexity: O(steps × cells).
void write_flows_csv(std::ostream& out, const Trajectory& trajectory);

/// Writes a file all or nothing: `write` fills a temporary file in the same folder, which is
/// then renamed over `path` (atomic on POSIX). If `write` throws or the stream fails, the
/// temporary is removed and `path` is left as it was.
/// @throws error naming the path if the file cannot be written or renamed; rethrows `write`'s.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

/// One output file for write_files_atomically.
struct OutputFile {
  std::filesystem::path path;
  std::function<void(std::ostream&)> write;
};

/// Writes several files all or nothing: every temporary is written first, and only when all
/// succeeded are they renamed into place, so a failure leaves none of them changed.
/// @throws as write_file_atomically.
void write_files_atomically(const std::vector<OutputFile>& files);

}  // namespace steppe
