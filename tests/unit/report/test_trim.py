"""Results keep the head and tail of long text for storage, after the run judged the full value."""
from __future__ import annotations

from orchestrator.result.model import Status, StepResult
from orchestrator.result.trim import stored_step, trimmed


def test_long_strings_anywhere_in_the_fields_are_cut_with_a_note() -> None:
    big = "A" + "m" * 200_000 + "Z"
    value = trimmed({"stdout": big, "nested": [{"output": big}], "n": 3}, keep=10)
    assert value["n"] == 3
    for text in (value["stdout"], value["nested"][0]["output"]):
        assert text.startswith("Ammmmmmmmm\n") and text.endswith("\nmmmmmmmmmZ")
        assert "200,002 characters, 199,982 left out here; the first 10 and the last 10 are kept" in text


def test_a_step_with_short_fields_is_kept_as_it_is() -> None:
    step = StepResult(index=0, title="t", action="exec", status=Status.PASSED, duration_s=0.1,
                      fields={"stdout": "short", "exit_code": 0})
    assert stored_step(step) is step


def test_a_step_result_stores_at_most_about_64k_per_field() -> None:
    step = StepResult(index=0, title="t", action="call", status=Status.PASSED, duration_s=0.1,
                      fields={"output": "x" * 10_000_000})
    assert len(stored_step(step).fields["output"]) < 70_000
