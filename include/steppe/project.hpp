// SPDX-License-Identifier: MIT
// The driver loop: projects a population through a sequence of RateSets, one per step, and
// calls an observer after each step.
#pragma once

#include <span>
#include <type_traits>
#include <utility>

#include "steppe/projector.hpp"

namespace steppe {

/// Projects `pop` through `rates` (one RateSet per step, in order) and calls
/// `obs(const Population& end_of_step, int year_at_end, const Flows&)` after each step.
/// `pop` ends at the last step's end. Years are integers: year_at_end = start_year + (k+1)·width,
/// never accumulated. `next` and `flows` are the caller's double buffer and flow scratch (sized for
/// p.dims()), so the loop never allocates; the overload without them allocates once, up front.
/// The observer is taken by forwarding reference and never copied.
/// @returns the number of steps taken.
template <class Observer>
int project(Projector& p, Population& pop, std::span<const RateSet> rates, int start_year,
            Observer&& obs, Population& next, Flows& flows, Regime regime = Regime::crisis) {
  static_assert(std::is_invocable_v<Observer&, const Population&, int, const Flows&>,
                "Observer must be callable as obs(const Population&, int year, const Flows&)");
  const int width = p.dims().ages().width;
  int k = 0;
  for (const RateSet& r : rates) {
    p.step(pop, r, next, flows, regime);
    ++k;
    obs(static_cast<const Population&>(next), start_year + k * width,
        static_cast<const Flows&>(flows));
    swap(pop, next);
  }
  return k;
}

/// As above, allocating the double buffer and flows once before the loop.
template <class Observer>
int project(Projector& p, Population& pop, std::span<const RateSet> rates, int start_year,
            Observer&& obs, Regime regime = Regime::crisis) {
  Population next(p.dims());
  Flows flows(p.dims());
  return project(p, pop, rates, start_year, std::forward<Observer>(obs), next, flows, regime);
}

/// An observer that does nothing (for a projection whose end population is all you need).
struct NullObserver {
  void operator()(const Population&, int, const Flows&) const noexcept {}
};

}  // namespace steppe
