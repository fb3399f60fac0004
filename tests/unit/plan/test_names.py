"""Names before the run: what is unknown, what is only a near miss, what a plan may leave undefined."""
from __future__ import annotations

from orchestrator.plan.names import expect_scope, guarded, unknown_names


def test_a_misspelt_as_name_is_caught_with_did_you_mean() -> None:
    scope = {"boom", "limit"}
    assert unknown_names({"bom"}, scope, bound=scope) == ["unknown name 'bom'; did you mean 'boom'?"]


def test_after_a_call_only_near_misses_of_vars_and_as_names_are_reported() -> None:
    case = {"boom", "limit", "env"}
    scope = expect_scope("call", case, "first")
    assert "output" in scope and "worker" in scope and "first" in scope
    found = {"tokens", "cost", "bom", "limt", "frist"}  # a provider may return tokens and cost
    assert unknown_names(found, scope, bound={"boom", "limit", "first"}, open_result=True) == [
        "unknown name 'bom'; did you mean 'boom'? (if the result really has a key 'bom', write result.bom)",
        "unknown name 'frist'; did you mean 'first'? (if the result really has a key 'frist', write result.frist)",
        "unknown name 'limt'; did you mean 'limit'? (if the result really has a key 'limt', write result.limt)"]


def test_a_process_step_result_is_closed() -> None:
    scope = expect_scope("exec", {"boom"}, None)
    assert unknown_names({"stdout", "exit_code", "tokens"}, scope, bound={"boom"}) == [
        "unknown name 'tokens' (not defined here: add it to vars:, name an earlier step's result with as:, "
        "or pass --var tokens=VALUE)"]


def test_misspelt_built_ins_get_a_suggestion() -> None:
    assert unknown_names({"free_prot"}, {"free_port", "len"}, bound=set()) == [
        "unknown name 'free_prot'; did you mean 'free_port'?"]


def test_names_guarded_by_defined_or_default_may_be_undefined() -> None:
    assert guarded("{{ a is defined and b | default(1) and c is undefined and d }}") == {"a", "b", "c"}
