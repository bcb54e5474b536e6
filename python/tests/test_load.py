"""Loading an implementation from its file: statuses of each step, entry expressions, fresh modules."""

import sys

import pytest

from tritonize_worker.errors import JobFailure
from tritonize_worker.load import load_entry


def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(source)
    return str(path)


def status_of(path: str, entry: str) -> JobFailure:
    with pytest.raises(JobFailure) as caught:
        load_entry(path, entry, "candidate")
    return caught.value


def test_entry_is_an_expression_in_the_modules_namespace(tmp_path):
    path = write(
        tmp_path,
        "layer.py",
        "class LayerNorm:\n    @staticmethod\n    def apply(x):\n        return x + 1\n",
    )

    assert load_entry(path, "LayerNorm.apply", "candidate")(1) == 2


def test_each_load_is_a_fresh_module(tmp_path):
    path = write(tmp_path, "counter.py", "calls = []\ndef count():\n    calls.append(1)\n    return len(calls)\n")
    first = load_entry(path, "count", "baseline")
    second = load_entry(path, "count", "baseline")

    assert (first(), first(), second()) == (1, 2, 1)
    assert first.__module__ != second.__module__ and first.__module__ in sys.modules


def test_syntax_error_names_the_line(tmp_path):
    failure = status_of(write(tmp_path, "bad.py", "x = 1\ndef f(:\n    pass\n"), "f")

    assert failure.status == "syntax_error"
    assert failure.message.startswith("SyntaxError: ") and "line 2" in failure.message


def test_null_bytes_are_a_syntax_error(tmp_path):
    path = tmp_path / "null.py"
    path.write_bytes(b"x = 1\x00\n")

    assert status_of(str(path), "x").status == "syntax_error"


def test_sys_exit_at_import_is_an_import_error(tmp_path):
    failure = status_of(write(tmp_path, "leaves.py", "import sys\nsys.exit(3)\n"), "f")

    assert (failure.status, failure.message) == ("import_error", "SystemExit: 3")


def test_missing_file_is_an_import_error(tmp_path):
    failure = status_of(str(tmp_path / "absent.py"), "f")

    assert failure.status == "import_error" and "cannot read" in failure.message


def test_missing_or_uncallable_entry(tmp_path):
    path = write(tmp_path, "mod.py", "value = 3\n")

    assert status_of(path, "softmax").message == f"entry 'softmax' in {path}: NameError: name 'softmax' is not defined"
    assert status_of(path, "value").message == f"entry 'value' in {path} is a int, not callable"
    assert status_of(path, "value +").status == "missing_entry"
