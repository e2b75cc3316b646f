"""The run configuration is checked like the data: every setting typed, in range, with the
rules across settings; a wrong file is refused with one line per problem naming the file,
section, key, value and rule, by the command line and inside the flows alike."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from contracts import params
from contracts.params import (
    PARTS,
    SECTIONS,
    CrossCheckBands,
    EvidenceThreshold,
    ModelSettings,
    RankingParams,
    RunConfig,
    SettingsError,
    setting_types,
    type_words,
    typed_value,
)
from pipelines.config import ConfigError, config_changes, described_config, load_run_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "provider.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the declarations ---------------------------------------------------------------------------


def test_every_part_is_a_section_of_the_run_configuration():
    assert tuple(f.name for f in fields(RunConfig)) == SECTIONS
    for part in PARTS:
        assert isinstance(getattr(RunConfig(), part.SECTION), part)
        assert part.TITLE


def test_every_setting_declares_its_meaning_and_a_type_the_checker_reads():
    for part in PARTS:
        for name, kind in setting_types(part).items():
            assert params.setting_meaning(part, name), f"[{part.SECTION}] {name} has no meaning"
            assert not type_words(kind).startswith("<"), (part.SECTION, name)


def test_the_defaults_keep_their_own_rules_and_survive_a_round_trip():
    config = RunConfig()
    for part in PARTS:
        values = getattr(config, part.SECTION).to_dict()
        assert part.from_dict(values) == getattr(config, part.SECTION)


def test_rules_across_settings_name_real_settings():
    for part in PARTS:
        for rule in part.ACROSS:
            assert set(rule.names) <= set(setting_types(part)), (part.SECTION, rule.words)


def test_the_backtest_peers_a_file_may_name_are_the_replay_contenders():
    from models.baselines import replay_contenders

    contenders = set(replay_contenders(None)) - {"ground_truth"}
    assert set(params.BACKTEST_PEERS) == contenders | {params.GATED_MODEL}


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (int, 4, 4),
        (float, 1, 1.0),
        (bool, False, False),
        (tuple[str, ...], ["a", "b"], ("a", "b")),
        (tuple[float, float], [0, 1], (0.0, 1.0)),
        (dict[str, float], {"a": 1}, {"a": 1.0}),
    ],
)
def test_values_of_the_declared_type_are_read_as_it(kind, value, expected):
    assert typed_value(value, kind) == expected


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        (int, "4", "must be a whole number"),
        (int, 4.0, "must be a whole number"),
        (int, True, "must be a whole number"),
        (float, "0.5", "must be a number"),
        (float, True, "must be a number"),
        (float, float("nan"), "must be a finite number"),
        (bool, 1, "must be true or false"),
        (str, 3, "must be text"),
        (tuple[str, ...], "audit", "must be a list of words"),
        (tuple[str, ...], ["audit", 3], "must be a list of words"),
        (tuple[float, float], [0.1], "must be a list of 2 numbers"),
        (dict[str, float], {"a": "x"}, "must be a table of numbers"),
    ],
)
def test_a_value_of_another_type_is_refused_in_words(kind, value, words):
    with pytest.raises(TypeError, match=words):
        typed_value(value, kind)


def test_a_setting_declared_in_the_plain_style_is_type_checked_with_nothing_more():
    """What other branches add (`name: int = 3`, no `setting(...)`) is still checked."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Later(params.Section):
        SECTION = "later"
        TITLE = "added later"
        window_days: int = 90

    assert Later.from_dict({"window_days": 30}).window_days == 30
    with pytest.raises(SettingsError, match=r'\[later\] window_days = "30": must be a whole'):
        Later.from_dict({"window_days": "30"})


def test_a_part_built_in_code_is_held_to_the_same_rules():
    with pytest.raises(SettingsError, match=r"min_consecutive_months = -3: must be 1 to 36"):
        EvidenceThreshold(min_consecutive_months=-3)
    with pytest.raises(SettingsError, match="consolidating needs no more months"):
        EvidenceThreshold(min_consecutive_months=2, consolidating_min_consecutive_months=3)
    with pytest.raises(SettingsError, match="a stage cannot be both confident and cautious"):
        CrossCheckBands(confident_stages=("embedded",), cautious_stages=("embedded",))
    with pytest.raises(SettingsError, match="a table naming each of routine, significant, serious"):
        RankingParams(severity_weights={"serious": 4.0})
    with pytest.raises(SettingsError, match="a list naming ga2m"):
        ModelSettings(backtest_peers=("rules_stage",))


# --- a provider's file ----------------------------------------------------------------------------


def test_a_good_file_overrides_only_what_it_names(tmp_path):
    path = write(
        tmp_path,
        "[threshold]\nmin_consecutive_months = 4\nmin_teams_meeting_share = 1\n"
        "[ranking.severity_weights]\nroutine = 1\nsignificant = 2.5\nserious = 4\n",
    )
    config = load_run_config(path)
    assert config.threshold.min_consecutive_months == 4
    assert config.threshold.min_teams_meeting_share == 1.0
    assert isinstance(config.threshold.min_teams_meeting_share, float)
    assert config.ranking.severity_weights == {"routine": 1.0, "significant": 2.5, "serious": 4.0}
    assert config.cross_check == CrossCheckBands()
    assert [(s, n) for s, n, _, _ in config_changes(config)] == [
        ("threshold", "min_consecutive_months"),
        ("threshold", "min_teams_meeting_share"),
        ("ranking", "severity_weights"),
    ]


def test_every_problem_of_a_file_is_one_line_naming_file_section_key_value_and_rule(tmp_path):
    path = write(
        tmp_path,
        '[threshold]\nmin_consecutive_months = "four"\nmin_teams_meeting_share = 1.5\n'
        "[cross_check]\nlow = 0.9\nhigh = 0.5\n[reports]\nx = 1\n",
    )
    with pytest.raises(ConfigError) as refused:
        load_run_config(path)
    assert refused.value.problems == (
        f"{path} [reports]: unknown section (did you mean [report]?)",
        f'{path} [threshold] min_consecutive_months = "four": must be a whole number',
        f"{path} [threshold] min_teams_meeting_share = 1.5: must be 0 to 1",
        f"{path} [cross_check] low = 0.9, high = 0.5: the bands need low <= high",
    )
    assert "(4 problems); nothing was run" in str(refused.value)


def test_overrides_from_a_flow_parameter_are_checked_the_same_way(tmp_path):
    path = write(tmp_path, "[threshold]\nmin_consecutive_months = 4\n")
    with pytest.raises(ConfigError, match=r"\[threshold\] min_consecutive_months = -1: must be"):
        load_run_config(path, {"threshold": {"min_consecutive_months": -1}})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[threshold\nx = 1\n", "not valid TOML: Expected ']'"),
        ("threshold = 3\n", "threshold = 3: must be a section, [threshold]"),
    ],
)
def test_a_file_that_is_not_a_configuration_is_refused_in_one_line(tmp_path, text, words):
    with pytest.raises(ConfigError, match=re.escape(words)) as refused:
        load_run_config(write(tmp_path, text))
    assert len(refused.value.problems) == 1


def test_a_missing_file_is_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read: No such file"):
        load_run_config(tmp_path / "absent.toml")


def test_the_described_configuration_marks_what_the_file_changed(tmp_path):
    path = write(tmp_path, "[threshold]\nmin_consecutive_months = 4\n")
    lines = described_config(load_run_config(path), str(path))
    changed = [line.split() for line in lines if "# changed by" in line]
    assert changed == [
        ["min_consecutive_months", "=", "4", "#", "changed", "by", str(path), "(default", "3)"]
    ]
    assert "min_evidence_categories = 3" in lines  # defaults are printed too
    assert lines[-1].endswith("changes 1 setting: [threshold] min_consecutive_months 3 -> 4")
    # the description is itself a configuration file that gives the same configuration
    again = write(tmp_path, "\n".join(lines))
    assert load_run_config(again) == load_run_config(path)
