"""Run outputs: atomic publishing, spreadsheet safety, service ranking. (The SQL sink became
the run history: tests/test_history.py.)"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.ranking import rank_services
from pipelines.outputs import (
    csv_text,
    neutralise_formulas,
    new_run_id,
    previous_run_id,
    publish,
    start_run_folder,
    write_table,
)


def _write_run(out, text):
    run = start_run_folder(out, new_run_id(date(2026, 3, 31)))
    (run / "scores.csv").write_text(text)
    return run


def test_publish_switches_every_file_at_once_and_keeps_history(tmp_path):
    first = _write_run(tmp_path, "first")
    publish(tmp_path, first)
    assert (tmp_path / "scores.csv").read_text() == "first"
    second = _write_run(tmp_path, "second")
    assert (tmp_path / "scores.csv").read_text() == "first"  # not yet published
    assert previous_run_id(tmp_path) == first.name
    publish(tmp_path, second)
    assert (tmp_path / "scores.csv").read_text() == "second"
    assert (first / "scores.csv").read_text() == "first"


def test_an_unpublished_run_leaves_outputs_untouched(tmp_path):
    publish(tmp_path, _write_run(tmp_path, "good"))
    _write_run(tmp_path, "half-written")  # a run that failed before publishing
    assert (tmp_path / "scores.csv").read_text() == "good"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+44 123", "'+44 123"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Rose House", "Rose House"),
    ],
)
def test_formulas_are_neutralised_in_text_but_numbers_are_kept(value, expected):
    frame = pd.DataFrame({"name": pd.Series([value], dtype="str"), "score": [-0.5]})
    out = neutralise_formulas(frame)
    assert out["name"].iloc[0] == expected
    assert out["score"].iloc[0] == -0.5
    assert frame["name"].iloc[0] == value  # the argument is not mutated


def test_rank_services_orders_by_severity_weighted_expected_slips():
    scores = pd.DataFrame(
        {
            "improvement_id": ["I1", "I2", "I3", "I4"],
            "location_id": ["L1", "L1", "L2", "L3"],
            "theme": ["falls", "medicines", "falls", "documentation"],
            "severity": ["routine", "routine", "serious", "significant"],
            "p_hold": [0.5, 0.5, 0.6, 0.9],
            "p_hold_low": [0.4, 0.4, 0.5, 0.8],
            "p_hold_high": [0.6, 0.6, 0.7, 1.0],
            "stage": ["emerging", "embedded", "consolidating", "embedded"],
            "claim_check": ["overclaim", "consistent", "no_claim", "consistent"],
            "triggers": ["uneven_results_between_teams", "", "", ""],
        }
    )
    services = pd.DataFrame(
        {"location_id": ["L1", "L2", "L3"], "provider_id": ["P", "P", "P"], "name": ["A", "B", "C"]}
    )
    ranked = rank_services(scores, services)
    # L1: 1*0.5 + 1*0.5 + 0.5 over-claim = 1.5; L2: 3*0.4 = 1.2; L3: 2*0.1 = 0.2
    assert ranked["location_id"].tolist() == ["L1", "L2", "L3"]
    assert ranked["priority_score"].tolist() == [1.5, 1.2, 0.2]
    assert ranked["priority_low"].iloc[1] == pytest.approx(0.9)
    assert ranked["priority_high"].iloc[1] == pytest.approx(1.5)
    assert ranked.loc[0, ["n_emerging", "n_embedded", "overclaims", "triggers"]].tolist() == [
        1,
        1,
        1,
        1,
    ]
    assert ranked["main_reason"].iloc[1] == (
        "serious falls improvement I3 has a 60% chance of holding (consolidating)"
    )
    assert ranked["main_reason"].iloc[0].endswith("; 1 over-claim")


def _pandas_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")


def test_csv_text_is_byte_for_byte_what_pandas_writes():
    rng = np.random.default_rng(3)
    n = 400
    awkward = [
        "plain",
        "",
        None,
        "a,b",
        'say "no"',
        "two\nlines",
        "carriage\rreturn",
        " lead",
        "'=SUM(A1)",
        "tab\tcell",
        "ünïcødé, ok",
        '"',
        ",",
    ]
    frame = pd.DataFrame(
        {
            "text": pd.Series([awkward[i % len(awkward)] for i in range(n)], dtype="str"),
            "category": pd.Categorical([["a", "b,c", None][i % 3] for i in range(n)]),
            "float": np.concatenate(
                [
                    [np.nan, np.inf, -np.inf, -0.0, 1e-5, 1e16, 0.1 + 0.2, 2.0],
                    rng.normal(scale=1e3, size=n - 8),
                ]
            ),
            "int": rng.integers(-5, 10**9, n),
            "nullable int": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
            "flag": rng.random(n) < 0.5,
            "day": pd.Series(pd.date_range("2025-01-01", periods=n, freq="D")).where(
                np.arange(n) % 11 != 0
            ),
            'odd, "name"': "x",
        }
    )
    assert csv_text(frame) == _pandas_csv(frame)
    assert csv_text(frame.iloc[:0]) == _pandas_csv(frame.iloc[:0])


def test_csv_text_leaves_a_type_it_does_not_cover_to_pandas(tmp_path):
    frame = pd.DataFrame({"wait": pd.to_timedelta([1, 2], unit="D"), "text": ["a", "b"]})
    assert csv_text(frame) is None
    write_table(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == _pandas_csv(frame)
