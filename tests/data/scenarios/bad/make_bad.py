# SPDX-License-Identifier: MIT
# Writes tests/data/scenarios/bad/*.json and expected.txt from ../good_minimal.json: one defect per
# file. Run it after changing the base or adding a case: python3 make_bad.py
import copy, json, os, sys
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
base = json.load(open(f"{root}/good_minimal.json"))

def dump(v, depth=0):
    pad = "  " * depth
    if isinstance(v, dict) and depth < 3 and any(isinstance(x, (dict, list)) for x in v.values()):
        items = [f'{pad}  {json.dumps(k)}: {dump(x, depth + 1)}' for k, x in v.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(v, list) and depth < 2 and any(isinstance(x, dict) for x in v):
        items = [f'{pad}  {dump(x, depth + 1)}' for x in v]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(v, ensure_ascii=False)

def g(d): return d["groups"][0]
def rename(d, old, new):
    return {new if k == old else k: v for k, v in d.items()}

cases = []
def case(name, pointer, says, text=None):
    def deco(f):
        cases.append((name, pointer, says, f, text))
        return f
    return deco

# ---- unknown keys (typos) at every level, with did-you-mean, at the unknown key's own pointer ----
@case("unknown_top_level.json", "/targts", 'unknown field "targts" (did you mean "targets"?)')
def _(d): return rename(d, "targets", "targts")
@case("unknown_meta.json", "/meta/autors", 'unknown field "autors" (did you mean "authors"?)')
def _(d): d["meta"]["autors"] = ["A. Nobody"]; return d
@case("unknown_projection.json", "/projection/migration_timng", 'unknown field "migration_timng" (did you mean "migration_timing"?)')
def _(d): d["projection"]["migration_timng"] = "half_half"; return d
@case("unknown_group.json", "/groups/0/migraton", 'unknown field "migraton" (did you mean "migration"?)')
def _(d): g(d)["migraton"] = {"net_rate": 0}; return d
@case("unknown_mortality.json", "/groups/0/mortality/coale_demenny", 'unknown field "coale_demenny" (did you mean "coale_demeny"?)')
def _(d): g(d)["mortality"] = rename(g(d)["mortality"], "coale_demeny", "coale_demenny"); return d
@case("unknown_flight.json", "/crisis/kazakh/flight/age_patern", 'unknown field "age_patern" (did you mean "age_pattern"?)')
def _(d): f = d["crisis"]["kazakh"]["flight"]; d["crisis"]["kazakh"]["flight"] = rename(f, "age_pattern", "age_patern"); return d
@case("unknown_target.json", "/targets/0/vaule", 'unknown field "vaule" (did you mean "value"?)')
def _(d): d["targets"][0] = rename(d["targets"][0], "value", "vaule"); return d
@case("unknown_outputs.json", "/outputs/quantile", 'unknown field "quantile" (did you mean "quantiles"?)')
def _(d): d["outputs"] = rename(d["outputs"], "quantiles", "quantile"); return d
@case("unknown_initial_population.json", "/groups/0/initial_population/undercont", 'unknown field "undercont" (did you mean "undercount"?)')
def _(d): g(d)["initial_population"] = rename(g(d)["initial_population"], "undercount", "undercont"); return d

# ---- wrong types ----
@case("type_title_number.json", "/meta/title", "expected a string, got 42")
def _(d): d["meta"]["title"] = 42; return d
@case("type_female_string.json", "/groups/0/initial_population/female", 'expected a number of persons >= 0 or a distribution, got the string "1000"')
def _(d): g(d)["initial_population"]["female"] = "1000"; return d
@case("type_groups_object.json", "/groups", "expected an array of at least one group, got an object")
def _(d): d["groups"] = {"kazakh": g(d)}; return d
@case("type_omega_string.json", "/projection/ages/omega", 'expected an integer, got the string "100"')
def _(d): d["projection"]["ages"]["omega"] = "100"; return d
@case("type_births_abroad_string.json", "/groups/0/fertility/births_abroad", "expected true or false")
def _(d): g(d)["fertility"]["births_abroad"] = "yes"; return d
@case("type_quantiles_number.json", "/outputs/quantiles", "expected an array, got 0.5")
def _(d): d["outputs"]["quantiles"] = 0.5; return d
@case("not_an_object.json", "", "expected a scenario object, got an array of 1", text="[1]\n")
def _(d): return d
@case("parse_error.json", "", "parse error", text='{"meta": {"title": "truncated"},\n "projection": {\n')
def _(d): return d

# ---- missing required fields ----
@case("missing_title.json", "/meta/title", 'missing required field "title"')
def _(d): del d["meta"]["title"]; return d
@case("missing_start.json", "/projection/start", 'missing required field "start"')
def _(d): del d["projection"]["start"]; return d
@case("missing_groups.json", "/groups", 'missing required field "groups"')
def _(d): del d["groups"]; return d
@case("missing_group_name.json", "/groups/0/name", 'missing required field "name"')
def _(d): del g(d)["name"]; return d
@case("missing_initial_female.json", "/groups/0/initial_population/female", 'missing required field "female"')
def _(d): del g(d)["initial_population"]["female"]; return d
@case("missing_mortality.json", "/groups/0/mortality", 'missing required field "mortality"')
def _(d): del g(d)["mortality"]; return d
@case("missing_tfr.json", "/groups/0/fertility/tfr", 'missing required field "tfr"')
def _(d): del g(d)["fertility"]["tfr"]; return d
@case("missing_schedule.json", "/groups/0/fertility/schedule", 'missing required field "schedule"')
def _(d): del g(d)["fertility"]["schedule"]; return d
@case("missing_target_sd.json", "/targets/0/error/sd", 'missing required field "sd"')
def _(d): del d["targets"][0]["error"]["sd"]; return d
@case("missing_source_citation.json", "/meta/sources/0/citation", 'missing required field "citation"')
def _(d): del d["meta"]["sources"][0]["citation"]; return d

# ---- values outside their domain ----
@case("e0_5.json", "/groups/0/mortality/coale_demeny/e0", "expected a life expectancy at birth in [18, 80] years, got 5")
def _(d): g(d)["mortality"]["coale_demeny"]["e0"] = 5; return d
@case("tfr_negative.json", "/groups/0/fertility/tfr", "expected a total fertility rate in [0, 15], got -1")
def _(d): g(d)["fertility"]["tfr"] = -1; return d
@case("undercount_095.json", "/groups/0/initial_population/undercount", "expected an undercount share in [0, 0.9], got 0.95")
def _(d): g(d)["initial_population"]["undercount"] = 0.95; return d
@case("srb_2.json", "/groups/0/fertility/srb", "expected a sex ratio at birth in [0.8, 1.3], got 2")
def _(d): g(d)["fertility"]["srb"] = 2; return d
@case("flight_rate_above_one.json", "/crisis/kazakh/flight/rate/1930", "expected a proportion per year in [0, 1], got 1.5")
def _(d): d["crisis"]["kazakh"]["flight"]["rate"]["1930"] = 1.5; return d
@case("initial_male_negative.json", "/groups/0/initial_population/male", "expected a number of persons >= 0, got -5")
def _(d): g(d)["initial_population"]["male"] = -5; return d
@case("target_sd_zero.json", "/targets/0/error/sd", "expected a relative standard deviation in [1e-6, 1], got 0")
def _(d): d["targets"][0]["error"]["sd"] = 0; return d
@case("relative_risk_negative.json", "/crisis/kazakh/excess_mortality/relative_risk", "expected a relative risk >= 0, got -1")
def _(d): d["crisis"]["kazakh"]["excess_mortality"]["relative_risk"] = -1; return d
@case("relative_risk_distribution_unbounded.json", "/crisis/kazakh/excess_mortality/relative_risk/male/1", "expected a distribution within [0, inf] (a relative risk >= 0)")
def _(d): d["crisis"]["kazakh"]["excess_mortality"]["relative_risk"] = {"ages": [0, 5], "female": [2, {"uniform": [1, 2]}], "male": [2, {"normal": {"mean": 1.5, "sd": 1}}]}; return d
@case("relative_risk_distribution_step_lengths.json", "/crisis/kazakh/excess_mortality/relative_risk/female", "expected an array of 2 values (one per age in \"ages\")")
def _(d): d["crisis"]["kazakh"]["excess_mortality"]["relative_risk"] = {"ages": [0, 5], "female": [{"uniform": [1, 2]}], "male": [2, 2]}; return d
@case("return_rate_above_one.json", "/crisis/kazakh/return/rate", "expected a probability in [0, 1], got 2")
def _(d): d["crisis"]["kazakh"]["return"] = {"rate": 2}; return d
@case("growth_rate_high.json", "/groups/0/initial_population/age_structure/stable/growth_rate", "a growth rate per year in [-0.1, 0.1]")
def _(d): g(d)["initial_population"]["age_structure"]["stable"]["growth_rate"] = 0.5; return d

# ---- dates and the projection ----
@case("date_month_13.json", "/projection/start", 'expected a valid calendar date "YYYY-MM-DD", got the string "1926-13-01"')
def _(d): d["projection"]["start"] = "1926-13-01"; return d
@case("date_dotted.json", "/projection/start", 'expected a date "YYYY-MM-DD", got the string "17.12.1926"')
def _(d): d["projection"]["start"] = "17.12.1926"; return d
@case("date_feb_29_not_leap.json", "/targets/0/date", "a valid calendar date")
def _(d): d["targets"][0]["date"] = "1929-02-29"; return d
@case("end_before_start.json", "/projection/end", 'expected a date after "start"')
def _(d): d["projection"]["end"] = "1925-01-01"; return d
@case("layout_unknown.json", "/projection/ages/layout", 'expected one of "single_year", "five_year", got the string "decade"')
def _(d): d["projection"]["ages"]["layout"] = "decade"; return d
@case("omega_30.json", "/projection/ages/omega", "expected an open age between 50 and 130, got 30")
def _(d): d["projection"]["ages"]["omega"] = 30; return d
@case("omega_with_five_year.json", "/projection/ages/omega", '"omega" is for single_year')
def _(d): d["projection"]["ages"]["layout"] = "five_year"; return d
@case("format_unknown.json", "/format", '"steppe-scenario/1"')
def _(d): return {"format": "steppe-scenario/2", **d}

# ---- distributions ----
@case("normal_e0_without_truncate.json", "/groups/0/mortality/coale_demeny/e0", 'add "truncate"')
def _(d): g(d)["mortality"]["coale_demeny"]["e0"] = {"normal": {"mean": 35, "sd": 5}}; return d
@case("uniform_reversed.json", "/groups/0/fertility/tfr/uniform", "expected [lo, hi] with lo < hi, got an array of 2")
def _(d): g(d)["fertility"]["tfr"] = {"uniform": [3, 1]}; return d
@case("normal_sd_negative.json", "/groups/0/mortality/coale_demeny/e0/normal/sd", "expected a standard deviation > 0, got -1")
def _(d): g(d)["mortality"]["coale_demeny"]["e0"] = {"normal": {"mean": 35, "sd": -1}, "truncate": [20, 50]}; return d
@case("two_kinds.json", "/groups/0/fertility/tfr", 'expected one distribution, got both "uniform" and "normal"')
def _(d): g(d)["fertility"]["tfr"] = {"uniform": [5, 7], "normal": {"mean": 6, "sd": 0.5}}; return d
@case("unknown_kind.json", "/distributions/severity", "expected a distribution (uniform, normal")
def _(d): d["distributions"]["severity"] = {"gamma": {"shape": 2, "rate": 2}}; return d
@case("truncate_reversed.json", "/groups/0/mortality/coale_demeny/e0/truncate", "expected [lo, hi] with lo < hi")
def _(d): g(d)["mortality"]["coale_demeny"]["e0"] = {"normal": {"mean": 35, "sd": 5}, "truncate": [50, 20]}; return d
@case("shared_undefined.json", "/groups/0/mortality/coale_demeny/e0/shared", 'no distribution named "nope" in /distributions')
def _(d): g(d)["mortality"]["coale_demeny"]["e0"] = {"shared": "nope"}; return d
@case("shared_out_of_domain.json", "/groups/0/fertility/srb/shared", 'got "severity"')
def _(d): g(d)["fertility"]["srb"] = {"shared": "severity"}; return d

# ---- time series, groups, crisis ----
@case("series_key_not_year.json", "/crisis/kazakh/flight/rate/1930s", 'expected a year (four digits, e.g. "1932") as the key of a time series point, got "1930s"')
def _(d): d["crisis"]["kazakh"]["flight"]["rate"] = {"1929": 0, "1930s": 0.05}; return d
@case("crisis_unknown_group.json", "/crisis/kazak", 'expected a group name ("kazakh"), got "kazak"')
def _(d): d["crisis"] = rename(d["crisis"], "kazakh", "kazak"); return d
@case("duplicate_group_name.json", "/groups/1/name", 'duplicate group name "kazakh"')
def _(d): d["groups"].append(copy.deepcopy(g(d))); return d
@case("groups_empty.json", "/groups", "expected an array of at least one group, got an array of 0")
def _(d): d["groups"] = []; return d
@case("flight_rate_and_count.json", "/crisis/kazakh/flight", 'expected exactly one of "rate" or "count"')
def _(d): d["crisis"]["kazakh"]["flight"]["count"] = 100; return d
@case("age_structure_two_kinds.json", "/groups/0/initial_population/age_structure", 'expected exactly one of "stable", "file" or "ages"')
def _(d): g(d)["initial_population"]["age_structure"].update({"ages": [0], "female": [1], "male": [1]}); return d

# ---- targets and outputs ----
@case("duplicate_target_name.json", "/targets/1/name", 'duplicate target name "census"')
def _(d): d["targets"].append(dict(d["targets"][0], date="1930-01-01")); return d
@case("target_date_outside.json", "/targets/0/date", "expected a date within half a step of the projection")
def _(d): d["targets"][0]["date"] = "1935-01-01"; return d
@case("target_group_unknown.json", "/targets/0/group", 'expected a group name, got the string "kazak"')
def _(d): d["targets"][0]["group"] = "kazak"; return d
@case("target_ages_beyond_open.json", "/targets/0/ages/1", "expected an age cell lower bound (a multiple of 1 from 0 to 100), got 101")
def _(d): d["targets"][0]["ages"] = [0, 101]; return d
@case("target_ages_not_cell_bound.json", "/targets/0/ages/1", "expected an age cell lower bound (a multiple of 5 from 0 to 85), got 22")
def _(d):
    # A valid five-year scenario (one step; the window defaults to it) whose target ages [15, 22]
    # end inside the 20-24 cell.
    d["projection"]["ages"] = {"layout": "five_year", "open_age": 85}
    del d["outputs"]["window"]
    d["targets"][0]["ages"] = [15, 22]
    return d
@case("window_outside.json", "/outputs/window/0", "expected a year of the projection's steps (1927 to 1930), got 1925")
def _(d): d["outputs"]["window"] = [1925, 1929]; return d
@case("quantiles_decreasing.json", "/outputs/quantiles/1", "expected a probability above the previous one (increasing), got 0.1")
def _(d): d["outputs"]["quantiles"] = [0.5, 0.1, 0.9]; return d
@case("by_age_year_string.json", "/outputs/by_age_year", 'expected true or false, got the string "yes"')
def _(d): d["outputs"]["by_age_year"] = "yes"; return d
@case("quantile_four_decimals.json", "/outputs/quantiles/0", "at most 3 decimals")
def _(d): d["outputs"]["quantiles"] = [0.0125, 0.5]; return d

# ---- schedules and age patterns ----
@case("schedule_unknown.json", "/groups/0/fertility/schedule", 'expected one of "')
def _(d): g(d)["fertility"]["schedule"] = "ussr_1926"; return d
@case("life_table_qx_above_one.json", "/groups/0/mortality/life_table/qx/female/1", "expected a probability in [0, 1], got 1.2")
def _(d):
    ages = [0, 1, 5, 15, 30, 50, 70, 85]
    q = [0.15, 0.08, 0.03, 0.05, 0.1, 0.25, 0.6, 1]
    g(d)["mortality"] = {"life_table": {"ages": ages, "qx": {"female": [0.15, 1.2] + q[2:], "male": q}}}
    return d
@case("age_pattern_all_zeros.json", "/crisis/kazakh/flight/age_pattern", "expected an age pattern with some weight, got all zeros")
def _(d): d["crisis"]["kazakh"]["flight"]["age_pattern"] = {"ages": [0, 15], "female": [0, 0], "male": [0, 0]}; return d
@case("step_function_ages_not_from_0.json", "/crisis/kazakh/flight/age_pattern/ages/0", "expected 0 (the first age group starts at birth), got 5")
def _(d): d["crisis"]["kazakh"]["flight"]["age_pattern"] = {"ages": [5, 15], "female": [1, 2], "male": [1, 2]}; return d
@case("step_function_ages_decreasing.json", "/crisis/kazakh/excess_mortality/relative_risk/ages/2", "expected an age above the previous one, got 10")
def _(d): d["crisis"]["kazakh"]["excess_mortality"]["relative_risk"] = {"ages": [0, 15, 10], "female": [2, 1, 1], "male": [2, 1, 1]}; return d
@case("schedule_shares_wrong_length.json", "/groups/0/fertility/schedule/shares", "expected an array of 3 values (one per age in \"ages\")")
def _(d): g(d)["fertility"]["schedule"] = {"ages": [0, 15, 50], "shares": [0, 1]}; return d

# ---- the food-balance crisis (crisis.model = food_balance) ----
def fb(d):
    """Replaces the crisis of the base with a valid food-balance crisis; returns it."""
    d["crisis"] = {
        "model": "food_balance",
        "drivers": {"herd": {"year": 1928, "horses": 1000, "cattle": 2000, "sheep_goats": 6000, "camels": 200},
                    "livestock_procurement": {"share": {"1929": 0.2, "1930": 0.3}},
                    "grain": {"harvest": 1000, "procurement": {"1929": 100, "1930": 200}}},
        "groups": {"kazakh": {"dependence": {"livestock": 0.9, "grain": 0.5},
                              "response": {"excess_mortality": {"maximum": 5, "relative_risk": 2},
                                           "flight": {"maximum": 0.1}}}}}
    return d["crisis"]
@case("food_model_unknown.json", "/crisis/model", 'expected one of "food_balance", got the string "food"')
def _(d): fb(d)["model"] = "food"; return d
@case("food_unknown_driver.json", "/crisis/drivers/slaugter", 'unknown field "slaugter" (did you mean "slaughter"?)')
def _(d): fb(d)["drivers"]["slaugter"] = 0.1; return d
@case("food_missing_herd.json", "/crisis/drivers/herd", 'missing required field "herd"')
def _(d): del fb(d)["drivers"]["herd"]; return d
@case("food_herd_year_after_end.json", "/crisis/drivers/herd/year", "expected a year of the projection (at most 1930), got 1935")
def _(d): fb(d)["drivers"]["herd"]["year"] = 1935; return d
@case("food_procurement_share_above_one.json", "/crisis/drivers/livestock_procurement/share/1930", "expected a share per year in [0, 1], got 1.5")
def _(d): fb(d)["drivers"]["livestock_procurement"]["share"]["1930"] = 1.5; return d
@case("food_procurement_share_and_head.json", "/crisis/drivers/livestock_procurement", 'expected either "share" or "head", got both')
def _(d): fb(d)["drivers"]["livestock_procurement"]["head"] = {"cattle": 10}; return d
@case("food_harvest_negative.json", "/crisis/drivers/grain/harvest", "expected tonnes >= 0, got -5")
def _(d): fb(d)["drivers"]["grain"]["harvest"] = -5; return d
@case("food_group_unknown.json", "/crisis/groups/kazak", 'expected a group name ("kazakh"), got "kazak"')
def _(d): c = fb(d); c["groups"] = rename(c["groups"], "kazakh", "kazak"); return d
@case("food_missing_relative_risk.json", "/crisis/groups/kazakh/response/excess_mortality/relative_risk", 'missing required field "relative_risk"')
def _(d): del fb(d)["groups"]["kazakh"]["response"]["excess_mortality"]["relative_risk"]; return d
@case("food_steepness_below_one.json", "/crisis/groups/kazakh/response/flight/steepness", "expected a Hill exponent in [1, 20], got 0.5")
def _(d): fb(d)["groups"]["kazakh"]["response"]["flight"]["steepness"] = 0.5; return d
@case("food_dependence_sum_above_one.json", "/crisis/groups/other/dependence", "expected shares of the livestock food whose upper bounds sum to at most 1 over the groups, got 1.3 in 1928")
def _(d):
    d["groups"].append(dict(copy.deepcopy(g(d)), name="other"))
    c = fb(d)
    c["groups"]["other"] = {"dependence": {"livestock": {"uniform": [0.2, 0.4]}, "grain": 0.5}}
    return d

# ---- three independent errors in one file: all three must be reported ----
THREE = [("/groups/0/mortality/coale_demeny/e0", "expected a life expectancy at birth in [18, 80] years, got 5"),
         ("/outputs/headlin", 'unknown field "headlin" (did you mean "headline"?)'),
         ("/targets/0/error/sd", "expected a relative standard deviation in [1e-6, 1], got 0")]
@case("three_errors.json", None, None)
def _(d):
    g(d)["mortality"]["coale_demeny"]["e0"] = 5
    d["outputs"]["headlin"] = "counterfactual"
    d["targets"][0]["error"]["sd"] = 0
    return d

outdir = f"{root}/bad"
names = [c[0] for c in cases]
assert len(names) == len(set(names)), "duplicate file names"
lines = ["# file<TAB>JSON pointer of the error (may be empty: the document root)<TAB>substring of its reason",
         "# One defect per file (three_errors.json has three lines). Written by make_bad.py from ../good_minimal.json."]
for name, pointer, says, f, text in cases:
    if text is not None:
        content = text
    else:
        content = dump(f(copy.deepcopy(base))) + "\n"
    open(f"{outdir}/{name}", "w").write(content)
    if name == "three_errors.json":
        for p, s in THREE: lines.append(f"{name}\t{p}\t{s}")
    else:
        assert "\t" not in says
        lines.append(f"{name}\t{pointer}\t{says}")
open(f"{outdir}/expected.txt", "w").write("\n".join(lines) + "\n")
print(len(cases), "files")
