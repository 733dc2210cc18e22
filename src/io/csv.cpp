// SPDX-License-Identifier: MIT
// CSV writers for a projection's populations and flows; all-or-nothing file output.
#include "steppe/io/csv.hpp"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <ostream>

#include "steppe/error.hpp"

namespace steppe {
namespace {

// Shortest decimal that reads back to the same double (std::to_chars, no locale).
void put(std::ostream& out, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.write(buf, r.ptr - buf);
}

void check(const std::ostream& out, const char* what) {
  if (!out) throw error(std::string(what) + ": write failed");
}

}  // namespace

void write_population_csv(std::ostream& out, const Trajectory& t) {
  const Dims& d = t.dims();
  out << "year,group,sex,age,population,population_abroad\n";
  for (std::size_t k = 0; k < t.populations().size(); ++k) {
    const Population& p = t.populations()[k];
    for (int g = 0; g < d.n_groups(); ++g)
      for (Sex s : sexes)
        for (int x = 0; x < d.n_ages(); ++x) {
          out << t.years()[k] << ',' << d.group_name(g) << ',' << to_string(s) << ','
              << d.ages().lower(x) << ',';
          put(out, p.home(s, g)[x]);
          out << ',';
          put(out, p.abroad(s, g)[x]);
          out << '\n';
        }
  }
  check(out, "write_population_csv");
}

void write_flows_csv(std::ostream& out, const Trajectory& t) {
  const Dims& d = t.dims();
  out << "year,group,sex,age,deaths,deaths_abroad,baseline_deaths,baseline_deaths_abroad,"
         "births,births_abroad,baseline_births,emigrants,returnees,immigrants,net_migrants,"
         "clamped\n";
  for (int k = 0; k < t.steps(); ++k) {
    const Flows& f = t.flows()[std::size_t(k)];
    for (int g = 0; g < d.n_groups(); ++g)
      for (Sex s : sexes) {
        const int c = Dims::col(s, g);
        for (int x = 0; x < d.n_ages(); ++x) {
          out << t.years()[std::size_t(k) + 1] << ',' << d.group_name(g) << ',' << to_string(s)
              << ',' << d.ages().lower(x);
          for (const Eigen::ArrayXXd* a :
               {&f.deaths, &f.deaths_abroad, &f.baseline_deaths, &f.baseline_deaths_abroad}) {
            out << ',';
            put(out, (*a)(x, c));
          }
          for (const Eigen::ArrayXd* b : {&f.births, &f.births_abroad, &f.baseline_births}) {
            out << ',';
            put(out, x == 0 ? (*b)[c] : 0.0);
          }
          for (const Eigen::ArrayXXd* a :
               {&f.emigrants, &f.returnees, &f.immigrants, &f.net_migrants}) {
            out << ',';
            put(out, (*a)(x, c));
          }
          out << ',';
          put(out, f.clamped_persons);
          out << '\n';
        }
      }
  }
  check(out, "write_flows_csv");
}

void write_files_atomically(const std::vector<OutputFile>& files) {
  std::vector<std::filesystem::path> temps;
  auto cleanup = [&] {
    std::error_code ec;
    for (const auto& p : temps) std::filesystem::remove(p, ec);
  };
  try {
    for (const OutputFile& f : files) {
      // Same folder as the target, so the rename stays within one file system (atomic).
      std::filesystem::path tmp = f.path;
      tmp += ".tmp." + std::to_string(::getpid());
      temps.push_back(tmp);
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw error(f.path.string() + ": cannot open for writing");
      f.write(out);
      out.flush();
      if (!out) throw error(f.path.string() + ": write failed");
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      std::error_code ec;
      std::filesystem::rename(temps[i], files[i].path, ec);
      if (ec)
        throw error(files[i].path.string() +
                    ": cannot rename the output into place: " + ec.message());
    }
  } catch (...) {
    cleanup();
    throw;
  }
}

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write) {
  write_files_atomically({OutputFile{path, write}});
}

}  // namespace steppe
