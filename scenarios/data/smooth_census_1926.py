#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Derives census-1926-ussr-rural-smoothed.csv (age,female,male) from census-1926-age-sex.csv:
# the USSR 1926 rural census by single year of age, with its age heaping smoothed.
#
# Usage: python3 smooth_census_1926.py [--area USSR|RSFSR] [--residence rural|total] [--out FILE]
# Standard library only. Writes the file next to this script unless --out is given.
#
# Smoothing (documented in PROVENANCE.md and in the scenario that uses the file):
#  1. Ages 0-7 are kept as counted (little digit preference at those ages; the infant
#     undercount that Andreev-Darsky-Kharkova find at 0-2 is NOT corrected here).
#  2. Ages 8-97 are grouped in 5-year groups CENTRED on the heaped digits:
#     8-12, 13-17, ..., 93-97. Each group holds exactly one age ending in 0 or 5, so the
#     heaping on 0 and 5 (both sexes: 29 -> 1.65M, 30 -> 3.23M, 31 -> 1.12M) moves counts only
#     inside a group, not between groups.
#  3. Within each group the counts are spread by linear interpolation between the group means
#     placed at the group midpoints (a piecewise-linear density), then rescaled so each group keeps
#     its census total exactly (mean-preserving).
#  4. Ages 98, 99 and the open 100+ are kept as counted (the 100+ row is inflated by age
#     exaggeration; it holds 0.03 % of the rural population, so it is left alone). Beyond the last
#     group midpoint (95) the interpolation is held flat, so it cannot turn negative.
#  5. Persons of unknown age are spread pro rata (they are 0.05 % of the rural total).
import argparse
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def read_counts(path, area, residence):
    counts = {"F": {}, "M": {}}
    unknown = {"F": 0, "M": 0}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["area"] != area or r["residence"] != residence or r["sex"] not in counts:
                continue
            if r["age_kind"] == "unknown":
                unknown[r["sex"]] += int(r["count"])
            else:
                counts[r["sex"]][int(r["age"])] = int(r["count"])
    return counts, unknown


def smooth(c):
    """c: dict age -> count, ages 0..100 (100 = 100+). Returns a list for ages 0..100 (100+)."""
    out = [float(c[a]) for a in range(8)]
    groups = [(lo, lo + 4) for lo in range(8, 94, 5)]  # 8-12 ... 93-97
    totals = [sum(c[a] for a in range(lo, hi + 1)) for lo, hi in groups]
    mids = [(lo + hi) / 2.0 for lo, hi in groups]
    means = [t / 5.0 for t in totals]

    def interp(x):
        if x <= mids[0]:
            # between the last kept single age (7) and the first group midpoint
            x0, y0, x1, y1 = 7.0, float(c[7]), mids[0], means[0]
        elif x >= mids[-1]:
            return means[-1]
        else:
            k = max(i for i in range(len(mids)) if mids[i] <= x)
            x0, y0, x1, y1 = mids[k], means[k], mids[k + 1], means[k + 1]
        return max(0.0, y0 + (y1 - y0) * (x - x0) / (x1 - x0))

    for (lo, hi), t in zip(groups, totals):
        raw = [interp(a) for a in range(lo, hi + 1)]
        s = sum(raw)
        out.extend(t * v / s if s > 0 else t / 5.0 for v in raw)
    out.extend(float(c[a]) for a in (98, 99, 100))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--area", default="USSR")
    ap.add_argument("--residence", default="rural")
    ap.add_argument("--out", default=os.path.join(HERE, "census-1926-ussr-rural-smoothed.csv"))
    a = ap.parse_args()
    counts, unknown = read_counts(os.path.join(HERE, "census-1926-age-sex.csv"), a.area, a.residence)
    sm = {}
    for sex in ("F", "M"):
        s = smooth(counts[sex])
        known = sum(s)
        sm[sex] = [v * (known + unknown[sex]) / known for v in s]
        # the smoothing preserves every group total: check it
        assert abs(sum(sm[sex]) - (sum(counts[sex].values()) + unknown[sex])) < 1e-6 * known
    with open(a.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["age", "female", "male"])
        for age in range(len(sm["F"])):
            w.writerow([age, round(sm["F"][age]), round(sm["M"][age])])


if __name__ == "__main__":
    main()
