// SPDX-License-Identifier: MIT
// Umbrella header: the whole public API of the Steppe engine.
#pragma once

#include "steppe/axes.hpp"
#include "steppe/error.hpp"
#include "steppe/excess.hpp"
#include "steppe/flows.hpp"
#include "steppe/observers.hpp"
#include "steppe/population.hpp"
#include "steppe/project.hpp"
#include "steppe/projector.hpp"
#include "steppe/rate_set.hpp"
#include "steppe/shock.hpp"
#include "steppe/version.hpp"
#include "steppe/report.hpp"
