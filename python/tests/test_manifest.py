"""The manifest schema, worker side: every shared bad manifest gives exactly the problem both checkers must report
(tests/fixtures/manifests; the engine's test reads the same files), and the shipped tasks pass."""

import tomllib
from pathlib import Path

import pytest

from tritonize_worker import formula
from tritonize_worker.manifest import ManifestError, parse_task
from tritonize_worker.schema import schema, vocab

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((REPO / "tests" / "fixtures" / "manifests").glob("*.toml"))


def expectations(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def problems_of(path: Path) -> list[str]:
    try:
        parse_task(tomllib.loads(path.read_text()))
    except ManifestError as error:
        return error.problems
    return []


def test_there_is_a_fixture_per_rule():
    assert len(FIXTURES) >= 40


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_shared_fixture_gives_exactly_the_expected_problem(path):
    expected = expectations(path)
    assert expected, f"{path.name} says nothing it expects"
    problems = problems_of(path)
    if expected == ["ok"]:
        assert problems == []
    else:
        for line in expected:
            assert line in problems, f"{path.name}: {line!r} not in {problems}"


@pytest.mark.parametrize("task", sorted(p.parent.name for p in (REPO / "tasks").glob("*/task.toml")))
def test_every_shipped_manifest_passes(task):
    parse_task(tomllib.loads((REPO / "tasks" / task / "task.toml").read_text()))


def test_float64_tensors_are_accepted_on_both_sides():
    # The drift issue #17 names: the engine accepted float64, the worker did not. Now one list says.
    assert "float64" in vocab("dtypes")
    assert problems_of(REPO / "tests" / "fixtures" / "manifests" / "ok_float64.toml") == []


def test_every_schema_type_is_known():
    known = {"string", "int", "float", "bool", "strings", "ints", "table", "tables", "map", "shape", "shapes",
             "bound", "value"}
    for table, fields in schema()["tables"].items():
        for name, spec in fields.items():
            kind = spec["type"]
            if kind.startswith(("one of ", "list of ")):
                assert vocab(kind.split(" of ", 1)[1]), f"{table}.{name}: no vocabulary {kind}"
            else:
                assert kind in known, f"{table}.{name}: unknown type {kind}"
            if kind in ("table", "tables") or (kind == "map" and spec["of"] in schema()["tables"]):
                assert spec["of"] in schema()["tables"], f"{table}.{name}: no table {spec['of']}"


def test_docs_describe_every_field():
    docs = (REPO / "docs" / "tasks.md").read_text()
    for table, fields in schema()["tables"].items():
        for name in fields:
            patterns = (f"`{name}`", f".{name}`", f"`[[{name}]]`", f"`[{name}]", f".{name}`, ", f"`{name}.")
            assert any(p in docs for p in patterns), f"docs/tasks.md does not describe {table}.{name}"


@pytest.mark.parametrize(
    "text, error",
    [("M +", 'column 4: a number, a dim or `(` expected at the end in "M +"'),
     ("(M", 'column 3: `)` expected in "(M"'),
     ("M $ 2", 'column 3: unexpected `$` in "M $ 2"'),
     ("1.2.3", 'column 1: malformed number `1.2.3` in "1.2.3"')],
)
def test_formula_errors_say_where(text, error):
    with pytest.raises(formula.FormulaError) as caught:
        formula.validate(text, ["M"])
    assert str(caught.value) == error


def test_shape_formulas_round_down():
    assert formula.evaluate_extent("M / 2", {"M": 7}) == 3
    assert formula.evaluate_extent("2 * (M + N) - 1", {"M": 3, "N": 4}) == 13
    assert formula.evaluate_extent("N", {"N": 5}) == 5
    assert formula.evaluate_extent(9, {}) == 9


def test_every_dtype_of_the_vocabulary_has_its_size_and_the_plan_its_bound():
    from tritonize_worker.schema import schema, vocab

    assert set(schema()["dtype_bytes"]) == set(vocab("dtypes"))
    assert schema()["dtype_bytes"]["bfloat16"] == 2 and schema()["dtype_bytes"]["float8_e5m2"] == 1
    assert schema()["plan"]["full_check_bytes"] == 256 << 20


def test_every_output_check_has_its_extra_calls_and_the_property_checks_make_as_many():
    from tritonize_worker import properties
    from tritonize_worker.schema import schema, vocab

    calls = schema()["output_check_calls"]
    assert set(calls) == set(vocab("output_checks"))
    assert calls["values"] == 0
    # The engine's disk estimate counts the outputs of these calls (core/task_lint.cpp JobDiskBytes).
    assert calls["dropout"] == len(properties.VARIANTS)
