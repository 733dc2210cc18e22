#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Regenerates good/tiny.json and the one-defect files in bad/ (each a copy of tiny.json with a
# single defect) plus bad/expected_pointers.txt, read by tests/io and tests/cli.
import copy, json, os
os.chdir(os.path.dirname(os.path.abspath(__file__)))
good = {
 "format": "steppe-project/1",
 "description": "Tiny valid input: single years 0-3 and 4+, two groups, 2 step entries (3 steps).",
 "ages": {"layout": "single_year", "omega": 4},
 "groups": ["a", "b"],
 "start_year": 1926,
 "options": {"timing": "half_half", "end_migrants_bear": True, "on_negative": "clamp"},
 "initial": {
   "a": {"female": [100, 90, 80, 70, 60], "male": [105, 92, 81, 69, 50],
         "abroad": {"female": [0, 0, 5, 5, 0], "male": [0, 0, 5, 5, 0]}},
   "b": {"female": [50, 45, 40, 35, 30], "male": [52, 46, 40, 34, 25]}},
 "steps": [
  {"label": "normal", "repeat": 2, "groups": {
    "a": {"mortality": {"female": {"life_table": {"qx": [0.2, 0.05, 0.02, 0.03, 1.0]}},
                        "male": {"life_table": {"qx": [0.22, 0.06, 0.02, 0.04, 1.0], "ages": [0, 1, 2, 3, 4], "ax": "midpoint"}}},
          "fertility": {"asfr": [0, 0, 0.3, 0.2, 0.05]},
          "srb": 1.05,
          "migration": {"emigration_count": {"female": [0, 1, 2, 1, 0], "male": [0, 1, 2, 1, 0]},
                        "emigration_rate": 0.01,
                        "immigration_count": {"total": 10, "pattern": "uniform"}},
          "crisis": {"mortality_multiplier": 1.2, "fertility_multiplier": 0.9}},
    "b": {"mortality": {"female": {"survivorship": [0.95, 0.97, 0.97, 0.6, 0.5], "birth_survivorship": 0.9},
                        "male": {"survivorship": [0.94, 0.96, 0.96, 0.55, 0.45], "birth_survivorship": 0.88}},
          "fertility": {"tfr": 2.0, "pattern": [0, 0, 0.5, 0.5, 0]},
          "migration": {"net_rate": {"female": 0.01, "male": [0, 0.01, 0.02, 0.01, 0]}}}}},
  {"label": "crisis", "groups": {
    "a": {"mortality": {"female": {"life_table": {"qx": [0.2, 0.05, 0.02, 0.03, 1.0]}},
                        "male": {"life_table": {"qx": [0.22, 0.06, 0.02, 0.04, 1.0]}}},
          "mortality_abroad": {"female": {"survivorship": [0.9, 0.9, 0.9, 0.5, 0.4], "birth_survivorship": 0.8},
                               "male": {"survivorship": [0.9, 0.9, 0.9, 0.5, 0.4], "birth_survivorship": 0.8}},
          "fertility": {"asfr": [0, 0, 0.3, 0.2, 0.05]},
          "migration": {"return_rate": 0.1, "return_count": {"total": 2, "pattern": {"female": [0, 0, 1, 1, 0], "male": [0, 0, 1, 1, 0]}}},
          "crisis": {"mortality_multiplier": {"female": 2.0, "male": [2, 2, 3, 3, 2]}, "mortality_multiplier_abroad": 1.5}},
    "b": {"mortality": {"female": {"survivorship": [0.95, 0.97, 0.97, 0.6, 0.5], "birth_survivorship": 0.9},
                        "male": {"survivorship": [0.94, 0.96, 0.96, 0.55, 0.45], "birth_survivorship": 0.88}},
          "fertility": {"tfr": 2.0, "pattern": [0, 0, 0.5, 0.5, 0]},
          "srb": 1.06,
          "migration": {"net_count": {"total": -4, "pattern": "uniform", "female_share": 0.25}}}}}]}

def dump(d, path):
    open(path, 'w').write(json.dumps(d, indent=1) + "\n")
dump(good, 'good/tiny.json')

A = ["steps", 0, "groups", "a"]
B = ["steps", 0, "groups", "b"]
def edit(path, value=None, delete=False):
    d = copy.deepcopy(good); o = d
    for k in path[:-1]: o = o[k]
    if delete: del o[path[-1]]
    else: o[path[-1]] = value
    return d
def rename(path, old, new):
    d = copy.deepcopy(good); o = d
    for k in path: o = o[k]
    o[new] = o.pop(old)
    return d
P = lambda *p: "/" + "/".join(str(x) for x in p)
bad = {}  # file -> (doc, pointer)
bad["qx_above_one"] = (edit(A + ["mortality", "female", "life_table", "qx", 2], 1.3), P(*A, "mortality", "female", "life_table", "qx", 2))
bad["survivorship_wrong_length"] = (edit(B + ["mortality", "male", "survivorship"], [0.9, 0.9, 0.9]), P(*B, "mortality", "male", "survivorship"))
bad["initial_negative_count"] = (edit(["initial", "a", "male", 3], -1), "/initial/a/male/3")
bad["emigration_count_negative"] = (edit(A + ["migration", "emigration_count", "female", 1], -2), P(*A, "migration", "emigration_count", "female", 1))
bad["missing_start_year"] = (edit(["start_year"], delete=True), "/start_year")
bad["missing_group_in_step"] = (edit(B, delete=True), P(*B))
bad["missing_birth_survivorship"] = (edit(B + ["mortality", "female", "birth_survivorship"], delete=True), P(*B, "mortality", "female", "birth_survivorship"))
bad["start_year_string"] = (edit(["start_year"], "1926"), "/start_year")
bad["initial_object_not_array"] = (edit(["initial", "b", "female"], {"0": 50}), "/initial/b/female")
bad["unknown_key_typo"] = (rename(A, "fertility", "fertilty"), P(*A, "fertilty"))
bad["bad_timing"] = (edit(["options", "timing"], "halfhalf"), "/options/timing")
bad["bad_on_negative"] = (edit(["options", "on_negative"], "ignore"), "/options/on_negative")
bad["asfr_nonzero_first_cell"] = (edit(A + ["fertility", "asfr", 0], 0.1), P(*A, "fertility", "asfr", 0))
bad["unknown_fertility_pattern"] = (edit(B + ["fertility", "pattern"], "booth_1948_standard"), P(*B, "fertility", "pattern"))
bad["pattern_not_summing_to_one"] = (edit(B + ["fertility", "pattern"], [0, 0, 0.5, 0.4, 0]), P(*B, "fertility", "pattern"))
bad["tfr_negative"] = (edit(B + ["fertility", "tfr"], -2), P(*B, "fertility", "tfr"))
bad["srb_zero"] = (edit(A + ["srb"], 0), P(*A, "srb"))
bad["emigration_rate_above_one"] = (edit(A + ["migration", "emigration_rate"], {"female": 1.5, "male": 0.1}), P(*A, "migration", "emigration_rate", "female"))
bad["immigration_total_negative"] = (edit(A + ["migration", "immigration_count", "total"], -10), P(*A, "migration", "immigration_count", "total"))
bad["mortality_multiplier_negative"] = (edit(A + ["crisis", "mortality_multiplier"], -1), P(*A, "crisis", "mortality_multiplier"))
bad["survivorship_and_life_table"] = (edit(B + ["mortality", "male", "life_table"], {"qx": [0.1, 0.1, 0.1, 0.1, 1]}), P(*B, "mortality", "male"))
bad["life_table_ages_not_increasing"] = (edit(A + ["mortality", "male", "life_table", "ages"], [0, 1, 1, 3, 4]), P(*A, "mortality", "male", "life_table", "ages", 2))
bad["repeat_zero"] = (edit(["steps", 0, "repeat"], 0), "/steps/0/repeat")
bad["steps_empty"] = (edit(["steps"], []), "/steps")
bad["repeated_group_name"] = (edit(["groups"], ["a", "a"]), "/groups/1")
bad["initial_unknown_group"] = (edit(["initial", "c"], {"female": [1, 1, 1, 1, 1], "male": [1, 1, 1, 1, 1]}), "/initial/c")
bad["five_year_bad_open_age"] = (edit(["ages"], {"layout": "five_year", "open_age": 87}), "/ages/open_age")
bad["omega_with_five_year"] = (edit(["ages"], {"layout": "five_year", "omega": 85}), "/ages/omega")
bad["wrong_format_tag"] = (edit(["format"], "steppe-scenario/1"), "/format")
table = []
for name, (doc, ptr) in bad.items():
    dump(doc, "bad/%s.json" % name)
    table.append((name + ".json", ptr))
# A syntax error (trailing comma) on line 3, and an empty file.
open("bad/parse_error.json", "w").write('{\n "format": "steppe-project/1",\n "ages": {"layout": "single_year",},\n}\n')
table.append(("parse_error.json", ""))
open("bad/empty_file.json", "w").write("")
table.append(("empty_file.json", ""))
with open("bad/expected_pointers.txt", "w") as f:
    f.write("# <file> <JSON pointer, \"\" = whole file>. Read by tests/cli; mirrored in tests/io/project_json_test.cpp\n")
    for n, p in sorted(table):
        f.write("%s %s\n" % (n, p if p else '""'))
print(len(table), "bad files")
