"""Conditional logit against published results, and ``chorus analyse dce``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.cli import cli
from flows.analysis.mnl import (
    EstimationError,
    MNLResult,
    code_categorical,
    fit_mnl,
    fit_mnl_by_group,
    relative_importance,
    willingness_to_trade,
)

SWISSMETRO_FEATURES = ["ASC_CAR", "ASC_TRAIN", "B_COST", "B_TIME"]


def sig(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


def swissmetro_long(reference_dir: Path) -> pd.DataFrame:
    """Biogeme example b01a's data, as one row per available alternative."""
    wide = pd.read_csv(reference_dir / "dce" / "swissmetro.dat", sep="\t")
    wide = wide[wide.PURPOSE.isin([1, 3]) & (wide.CHOICE != 0)].reset_index(drop=True)
    season_ticket = wide.GA == 1
    parts = []
    for name, code, prefix, available in [
        ("train", 1, "TRAIN", (wide.TRAIN_AV == 1) & (wide.SP != 0)),
        ("swissmetro", 2, "SM", wide.SM_AV == 1),
        ("car", 3, "CAR", (wide.CAR_AV == 1) & (wide.SP != 0)),
    ]:
        cost = wide[f"{prefix}_CO"].where(~season_ticket | (name == "car"), 0)
        part = pd.DataFrame({
            "choice_set": wide.index, "alternative": name, "chosen": wide.CHOICE.eq(code).astype(int),
            "ASC_CAR": float(name == "car"), "ASC_TRAIN": float(name == "train"),
            "B_COST": cost / 100, "B_TIME": wide[f"{prefix}_TT"] / 100, "MALE": wide.MALE,
        })
        parts.append(part[available.to_numpy()])
    return pd.concat(parts, ignore_index=True)


def heating_long(reference_dir: Path) -> pd.DataFrame:
    wide = pd.read_csv(reference_dir / "dce" / "heating_wide.csv")
    return pd.concat(
        pd.DataFrame({
            "idcase": wide.idcase, "alt": alt, "chosen": (wide.depvar == alt).astype(int),
            "ic": wide[f"ic.{alt}"], "oc": wide[f"oc.{alt}"],
        })
        for alt in ["gc", "gr", "ec", "er", "hp"]
    )


@pytest.fixture(scope="module")
def swissmetro(reference_dir: Path) -> pd.DataFrame:
    return swissmetro_long(reference_dir)


def test_it_reproduces_biogeme_b01a_on_swissmetro(swissmetro: pd.DataFrame) -> None:
    result = fit_mnl(swissmetro, choice_set="choice_set", chosen="chosen", features=SWISSMETRO_FEATURES)
    # Biogeme 01logit/b01a report: -0.154633, -0.701187, -1.08379, -1.27786 (.res file)
    published = {"ASC_CAR": -0.1546, "ASC_TRAIN": -0.7012, "B_COST": -1.084, "B_TIME": -1.278}
    published_se = {"ASC_CAR": 0.0432, "ASC_TRAIN": 0.0549, "B_COST": 0.0518, "B_TIME": 0.0569}
    for name in SWISSMETRO_FEATURES:
        assert sig(result.coefficient(name), 4) == published[name]
        assert sig(result.se(name), 3) == published_se[name]
    assert result.n_choice_sets == 6768
    assert result.log_likelihood == pytest.approx(-5331.252, abs=5e-4)
    assert result.null_log_likelihood == pytest.approx(-6964.663, abs=5e-4)
    assert round(result.rho_squared, 3) == 0.235


def test_it_reproduces_mlogit_on_train_heating_data(reference_dir: Path) -> None:
    result = fit_mnl(heating_long(reference_dir), choice_set="idcase", chosen="chosen", features=["ic", "oc"])
    assert sig(result.coefficient("ic"), 4) == -0.006232  # mlogit: -0.00623187 (0.00035277)
    assert sig(result.coefficient("oc"), 4) == -0.004580  # mlogit: -0.00458008 (0.00032216)
    assert sig(result.se("ic"), 4) == 0.0003528
    assert sig(result.se("oc"), 4) == 0.0003222
    assert result.log_likelihood == pytest.approx(-1095.2372, abs=5e-4)
    assert result.n_choice_sets == 900


def test_willingness_to_trade_matches_mlogit_ratio_and_simulated_spread(reference_dir: Path) -> None:
    result = fit_mnl(heating_long(reference_dir), choice_set="idcase", chosen="chosen", features=["ic", "oc"])
    trade = willingness_to_trade(result, "oc", "ic")
    # mlogit vignette: coef(oc)/coef(ic) = 0.7349; one more $ of oc is offset by 0.7349 less ic
    assert round(trade.estimate, 4) == -0.7349
    draws = np.random.default_rng(3).multivariate_normal(result.estimates, result.covariance, 200_000)
    simulated = np.std(-draws[:, 1] / draws[:, 0])
    assert trade.se == pytest.approx(simulated, rel=0.05)


def simulate(beta: dict[str, float], n_sets: int, seed: int, n_alts: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = n_sets * n_alts
    data = pd.DataFrame({
        "choice_set": np.repeat(np.arange(n_sets), n_alts),
        "price": rng.choice([5.0, 10.0, 20.0], rows),
        "colour": rng.choice(["blue", "green", "red"], rows),
    })
    data, _ = code_categorical(data, "colour")
    utility = sum(data[name] * b for name, b in beta.items()) + rng.gumbel(size=rows)
    best = utility.groupby(data.choice_set).transform("max")
    return data.assign(chosen=(utility == best).astype(int))


def test_it_recovers_simulated_coefficients_per_group() -> None:
    truths = {
        "a": {"price": -0.1, "colour[green]": 0.5, "colour[red]": 1.0},
        "b": {"price": -0.3, "colour[green]": -0.5, "colour[red]": 0.2},
    }
    data = pd.concat(
        [simulate(beta, 3000, seed=i).assign(group=g, choice_set=lambda d, i=i: d.choice_set + i * 10**6)
         for i, (g, beta) in enumerate(truths.items())]
    )
    results = fit_mnl_by_group(data, group="group", choice_set="choice_set", chosen="chosen",
                               features=list(truths["a"]))
    assert set(results) == {"a", "b"}
    for g, beta in truths.items():
        for name, b in beta.items():
            assert abs(results[g].coefficient(name) - b) < 3 * results[g].se(name)


def test_effects_coding_gives_minus_one_to_the_reference_level() -> None:
    data = pd.DataFrame({"staff": ["nurse", "doctor", "pharmacist", "nurse"]})
    coded_data, coded = code_categorical(data, "staff", coding="effects", reference="nurse")
    assert coded.columns == ("staff[doctor]", "staff[pharmacist]")
    assert coded_data["staff[doctor]"].tolist() == [-1.0, 1.0, 0.0, -1.0]
    assert coded_data["staff[pharmacist]"].tolist() == [-1.0, 0.0, 1.0, -1.0]
    worths = coded.part_worths({"staff[doctor]": 0.3, "staff[pharmacist]": -0.1})
    assert worths == pytest.approx({"doctor": 0.3, "nurse": -0.2, "pharmacist": -0.1})


def test_relative_importance_divides_each_range_by_the_sum_of_ranges() -> None:
    data = pd.DataFrame({"staff": ["doctor", "nurse", "pharmacist"]})
    _, coded = code_categorical(data, "staff")  # dummy, reference doctor
    result = MNLResult(
        features=("staff[nurse]", "staff[pharmacist]", "wait"),
        estimates=np.array([0.5, -1.0, -0.1]),
        covariance=np.eye(3), log_likelihood=-1.0, null_log_likelihood=-2.0, n_choice_sets=1, iterations=1,
    )
    importance = relative_importance(result, [coded], numeric={"wait": (0.0, 10.0)})
    # staff ranges from -1.0 to 0.5 (1.5); wait 0.1 * 10 = 1.0
    assert importance == pytest.approx({"staff": 0.6, "wait": 0.4})


def test_it_refuses_a_choice_set_with_two_chosen_alternatives() -> None:
    data = pd.DataFrame({"s": [1, 1, 2, 2], "chosen": [1, 1, 0, 1], "x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(EstimationError, match="exactly one chosen"):
        fit_mnl(data, choice_set="s", chosen="chosen", features=["x"])


def test_it_refuses_a_feature_that_never_varies_within_a_choice_set() -> None:
    data = pd.DataFrame({"s": [1, 1, 2, 2], "chosen": [1, 0, 0, 1], "x": [1.0, 2.0, 4.0, 3.0],
                         "z": [1.0, 1.0, 5.0, 5.0]})
    with pytest.raises(EstimationError):
        fit_mnl(data, choice_set="s", chosen="chosen", features=["x", "z"])


def test_cli_dce_prints_biogeme_estimates_as_json(swissmetro: pd.DataFrame, tmp_path: Path) -> None:
    csv = tmp_path / "swissmetro_long.csv"
    swissmetro.to_csv(csv, index=False)
    args = ["analyse", "dce", "--data", str(csv), "--choice-set", "choice_set", "--alternative", "alternative",
            "--chosen", "chosen", "--features", ",".join(SWISSMETRO_FEATURES), "--group", "MALE",
            "--format", "json"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    output = json.loads(run.output)
    assert output["n_choice_sets"] == 6768
    assert round(output["log_likelihood"], 3) == -5331.252
    assert sig(output["coefficients"]["B_TIME"]["estimate"], 4) == -1.278
    assert sig(output["coefficients"]["B_COST"]["se"], 3) == 0.0518
    assert set(output["groups"]) == {"0", "1"}
    assert sum(g["n_choice_sets"] for g in output["groups"].values()) == 6768


def test_cli_dce_adds_constants_and_codes_text_features_in_a_table(tmp_path: Path) -> None:
    data = simulate({"price": -0.2, "colour[green]": 0.4, "colour[red]": 0.8}, 400, seed=5)
    data = data.assign(alternative=np.tile(["x", "y", "z"], 400))
    csv = tmp_path / "dce.csv"
    data[["choice_set", "alternative", "chosen", "price", "colour"]].to_csv(csv, index=False)
    args = ["analyse", "dce", "--data", str(csv), "--choice-set", "choice_set", "--alternative",
            "alternative", "--chosen", "chosen", "--features", "price,colour", "--constants"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    for name in ["asc[y]", "asc[z]", "price", "colour[green]", "colour[red]", "400 choice sets"]:
        assert name in run.output


def test_cli_dce_names_a_missing_column(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    pd.DataFrame({"s": [1, 1], "alt": [1, 2], "chosen": [1, 0]}).to_csv(csv, index=False)
    run = CliRunner().invoke(cli, ["analyse", "dce", "--data", str(csv), "--choice-set", "s",
                                   "--alternative", "alt", "--chosen", "chosen", "--features", "price"])
    assert run.exit_code != 0
    assert "price" in run.output


def test_a_coefficient_without_a_meaningful_variance_has_no_standard_error(recwarn: pytest.WarningsRecorder) -> None:
    result = MNLResult(("a", "b"), np.array([0.5, -1.0]), np.array([[0.04, 0.0], [0.0, -1e-9]]), -10.0, -12.0, 20, 5)
    assert result.se("a") == pytest.approx(0.2) and np.isnan(result.se("b"))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_the_desk_choice_report_codes_an_opt_out_with_no_level_and_recovers_the_utilities() -> None:
    """A DCE with 'Neither': the opt-out's attributes are no level at all (dummies 0), the
    reference of each categorical attribute is a real level, and the estimates are finite and
    near the utilities the choices were drawn from."""
    from bot.api.methods import choice_report

    rng = np.random.default_rng(7)
    truth = {"wait": -0.5, "follow[phone]": -1.0, "follow[visit]": 0.0, "optout": -1.0}
    rows = []
    for task in range(1500):
        waits = [int(rng.integers(1, 8)) for _ in range(2)]
        follows = [str(rng.choice(["phone", "visit", "none_planned"])) for _ in range(2)]
        alternatives = [{"wait": w, "follow": f} for w, f in zip(waits, follows, strict=True)]
        follow = {"phone": truth["follow[phone]"], "visit": truth["follow[visit]"], "none_planned": 0.4}
        utility = np.array([truth["wait"] * w + follow[f] for w, f in zip(waits, follows, strict=True)] + [truth["optout"]])
        weights = np.exp(utility - utility.max())
        picked = int(rng.choice(3, p=weights / weights.sum()))
        chosen = 0 if picked == 2 else picked + 1
        rows.append({"type": "choice_experiment", "group": "all", "participant": f"p{task % 50}",
                     "value": {"alternatives": alternatives, "chosen": chosen, "opt_out": True}})
    report = choice_report(pd.DataFrame(rows))
    found = {c["feature"]: c for c in report["coefficients"]}
    assert "follow[(none)]" not in found and "follow[none_planned]" not in found, "no level and the reference are not estimated"
    assert all(np.isfinite(c["se"]) and c["se"] < 1 for c in found.values())
    assert abs(found["wait"]["estimate"] - truth["wait"]) < 0.1
    # against the reference level 'none_planned' (utility 0.4): phone -1.4, visit -0.4, neither -1.4
    assert abs(found["follow[phone]"]["estimate"] - (truth["follow[phone]"] - 0.4)) < 0.3
    assert abs(found["follow[visit]"]["estimate"] - (truth["follow[visit]"] - 0.4)) < 0.3
    assert abs(found["optout"]["estimate"] - (truth["optout"] - 0.4)) < 0.3
    importance = report["importance"]
    assert set(importance) == {"wait", "follow"} and abs(sum(importance.values()) - 1) < 1e-9
    assert importance["wait"] > importance["follow"], "waits span 3 utils (1-7 h at -0.5), follow-ups 1.4"
    trade = {t["feature"]: t for t in report["trade_offs"]}
    assert trade["follow[phone]"]["against"] == "wait"
    assert abs(trade["follow[phone]"]["estimate"] - (-1.4 / 0.5)) < 0.8, "a phone follow-up is worth about 2.8 h less wait"
