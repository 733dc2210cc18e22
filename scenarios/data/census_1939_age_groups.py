#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Prints the 1939 Kazakh SSR census age-sex targets of scenarios/kazakhstan-1926-1939.json:
# 5-year groups 0-4 ... 65-69 and 70+ per sex, from kazakh-ssr-census-1939-age-sex.csv.
#
# Usage: python3 census_1939_age_groups.py [--sd 0.07] [--sd-old 0.10] > targets.json   (stdlib only)
#
# Treatment (also stated in the scenario's meta.description):
#  - residence "total", all nationalities (the census table is not by nationality);
#  - 5-year groups, because single-year counts carry digit preference (heaping on 0 and 5);
#    the 70+ group closes the table because old-age counts are both small and exaggerated;
#  - persons of unknown age (375 F, 958 M) are spread pro rata over the known ages of their sex;
#  - the census-error model of every group is the shared 1939 inflation bias of the scenario
#    ({"shared": "inflation_1939"}) and a relative sd for age misreporting plus the model's
#    approximate initial age structure.
import argparse
import csv
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sd", type=float, default=0.07, help="relative sd below age 60")
    ap.add_argument("--sd-old", type=float, default=0.10, help="relative sd from age 60")
    a = ap.parse_args()
    counts = {"F": {}, "M": {}}
    unknown = {"F": 0, "M": 0}
    path = os.path.join(HERE, "kazakh-ssr-census-1939-age-sex.csv")
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["residence"] != "total" or r["sex"] not in counts:
                continue
            if r["age_kind"] == "unknown":
                unknown[r["sex"]] += int(r["count"])
            else:
                counts[r["sex"]][int(r["age"])] = int(r["count"])
    groups = [(lo, lo + 4) for lo in range(0, 70, 5)] + [(70, 100)]
    out = []
    for sex, name in (("F", "female"), ("M", "male")):
        known = sum(counts[sex].values())
        factor = (known + unknown[sex]) / known
        for lo, hi in groups:
            n = sum(counts[sex][x] for x in range(lo, hi + 1))
            label = f"{lo:02d}_{hi:02d}" if hi < 100 else f"{lo}_plus"
            out.append({
                "name": f"census_1939_{name}_{label}",
                "date": "1939-01-17",
                "sex": name,
                "ages": [lo, hi],
                "value": round(n * factor),
                "error": {"bias": {"shared": "inflation_1939"}, "sd": a.sd if lo < 60 else a.sd_old},
            })
    for t in out:
        print("    " + json.dumps(t, ensure_ascii=False) + ",")


if __name__ == "__main__":
    main()
