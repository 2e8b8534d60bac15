"""float32 or mixed_bfloat16: the setting, the CPU's flags, and a measured step."""

from pathlib import Path

import pytest

from search.engine.precision import choose_precision, cpu_flags, measure_step_seconds


def never_measured(policy: str) -> float:
    raise AssertionError("measured although the CPU has no native bfloat16")


def test_a_precision_the_study_file_sets_is_taken_as_it_is() -> None:
    choice = choose_precision("mixed_bfloat16", flags=frozenset(), step_seconds=never_measured)
    assert (choice.policy, choice.reason) == ("mixed_bfloat16", "as the study file sets it")


def test_auto_without_native_bfloat16_takes_float32_without_measuring() -> None:
    choice = choose_precision(
        "auto", flags=frozenset({"avx2", "fma"}), step_seconds=never_measured
    )
    assert choice.policy == "float32"
    assert choice.reason == "this CPU has no native bfloat16 (neither amx_bf16 nor avx512_bf16)"


@pytest.mark.parametrize(
    ("seconds", "policy", "reason"),
    [
        (
            {"float32": 0.02, "mixed_bfloat16": 0.008},
            "mixed_bfloat16",
            "this CPU has amx_bf16, and a training step measured 2.50x as fast as in float32",
        ),
        (
            {"float32": 0.02, "mixed_bfloat16": 0.03},
            "float32",
            "this CPU has amx_bf16, but a bfloat16 training step measured no faster "
            "(1.50x the time of float32)",
        ),
    ],
)
def test_auto_with_native_bfloat16_takes_what_measures_faster(
    seconds: dict, policy: str, reason: str
) -> None:
    # The measurement is the decision's input, fixed here; measuring itself is tested below.
    choice = choose_precision("auto", flags=frozenset({"amx_bf16"}), step_seconds=seconds.get)
    assert (choice.policy, choice.reason) == (policy, reason)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\nbugs\t\t: none\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "amx_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_a_training_step_is_measured_in_either_precision(policy: str) -> None:
    seconds = measure_step_seconds(policy, images=512)
    assert 0 < seconds < 5
