"""Tests of tritonize_worker.extract: the keep/drop rules, the command line and its errors, and the extracted
fixture tutorials running through their entry under the Triton interpreter on the CPU."""

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import make_request

from tritonize_worker.extract import ExtractError, checkout_hint, extract_tutorial, main

REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "tasks"
FIXTURE_ROOT = REPO / "tests" / "fixtures" / "tutorials"  # stands in for a Triton checkout
FIXTURE_TUTORIALS = FIXTURE_ROOT / "python" / "tutorials"
REAL_TUTORIALS = REPO / ".tutorials" / "python" / "tutorials"
TASK_NAMES = ["layernorm", "matmul", "softmax"]

# What each fixture must keep, in source order: every import, and the closure of what the entry needs.
FIXTURE_KEPT = {
    "softmax": ["torch", "triton", "tl", "DEVICE", "is_hip", "is_cdna", "softmax_kernel", "device_properties",
                "properties", "NUM_SM", "SIZE_SMEM", "WARP_SIZE", "ARCH", "NUM_WARPS", "softmax"],
    "layernorm": ["torch", "triton", "tl", "_layer_norm_fwd", "_layer_norm_bwd_dx", "_layer_norm_bwd_dwdb",
                  "row_block_size", "LayerNorm"],
    "matmul": ["torch", "triton", "tl", "DEVICE", "is_cuda", "get_cuda_autotune_config", "get_cpu_autotune_config",
               "get_autotune_config", "matmul_kernel", "leaky_relu", "matmul"],
}
# Test and benchmark code each fixture has and the extraction must drop: (kind, name).
FIXTURE_DROPPED = {
    "softmax": [("docstring", ""), ("def", "reference_softmax"), ("assign", "target"), ("assign", "kernels"),
                ("call", "torch.manual_seed"), ("assign", "x"),
                ("assert", "torch.allclose(y_triton, y_torch, atol=1e-06)"), ("call", "print"),
                ("for", "n_cols in (1, 7, 100)"), ("def", "benchmark"), ("call", "benchmark.run"),
                ("def", "test_softmax"), ("if", "__name__ == '__main__'")],
    "layernorm": [("try", "special, HAS_SCIPY"), ("assign", "DEVICE"), ("assign", "layer_norm"),
                  ("def", "test_layer_norm"), ("def", "bench_layer_norm"), ("call", "test_layer_norm"),
                  ("call", "bench_layer_norm.run")],
    "matmul": [("def", "is_hip_mi200"), ("call", "torch.manual_seed"), ("assign", "triton_output"), ("call", "print"),
               ("assign", "configs"), ("for", "transposed in [False, True]"), ("def", "benchmark"),
               ("if", "__name__ == '__main__'")],
}


def expert(task: str) -> dict:
    """The task's first [[expert]]: the tutorial one."""
    return tomllib.loads((TASKS / task / "task.toml").read_text())["expert"][0]


def top_level_names(code: str) -> set[str]:
    """Names that defs, classes and assignments bind at module level, in if blocks too."""
    names, nodes = set(), list(ast.parse(code).body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.If):
            nodes += node.body + node.orelse
        for target in getattr(node, "targets", []):
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def kept_statements(code: str) -> list[str]:
    """The source text of each top-level statement of extracted code, decorators included."""
    lines = code.split("\n")
    nodes = ast.parse(code).body
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) for n in nodes]
    return ["\n".join(lines[start - 1 : n.end_lineno]) for start, n in zip(starts, nodes, strict=True)]


def run_extract(tmp_path: Path, tutorials: Path, *extra: str, tasks: Path = TASKS) -> tuple[int, dict]:
    out = tmp_path / "out"
    rc = main(["--tutorials", str(tutorials), "--tasks-dir", str(tasks), "--out", str(out), *extra])
    report = json.loads((out / "extract.json").read_text()) if (out / "extract.json").exists() else {}
    # The tutorial experts by task (a task's other experts: library ones, or a second tutorial, are in `all`).
    return rc, {record["task"]: record for record in report.get("tasks", []) if record["expert"] == "tutorial"}


MINIMAL_MANIFEST = """schema_version = 2
name = "{name}"
entry = "f"
signature = "f(x)"
baseline = "baseline.py"
modes = ["forward"]
dims = ["N"]
sizes = ["4"]
check_sizes = ["3"]
interpret_check_sizes = ["3"]
seeds = [0, 1]
inputs = [{{ name = "x", kind = "tensor", shape = ["N"], dtype = "float32" }}]
tolerance = {{ y = {{ atol = 0.0, rtol = 0.0 }} }}
cost = {{ forward = {{ bytes = "N", flops = "N" }} }}
"""


def write_task(tasks: Path, name: str, tutorial: str, entry: str) -> None:
    (tasks / name).mkdir(parents=True)
    (tasks / name / "task.toml").write_text(
        MINIMAL_MANIFEST.format(name=name)
        + f'\n[[expert]]\nname = "tutorial"\ntutorial = "{tutorial}"\nentry = "{entry}"\n'
    )


# The keep/drop rules on the fixtures.


@pytest.mark.parametrize("task", TASK_NAMES)
def test_fixture_keeps_the_entry_closure_and_drops_tests_and_benchmarks(task):
    spec = expert(task)
    source = (FIXTURE_TUTORIALS / spec["tutorial"]).read_text()
    result = extract_tutorial(source, spec["entry"])
    assert result.kept == FIXTURE_KEPT[task]
    assert top_level_names(result.code) == set(FIXTURE_KEPT[task]) - {"torch", "triton", "tl"}
    dropped = {(d.kind, d.name) for d in result.dropped}
    assert set(FIXTURE_DROPPED[task]) <= dropped
    for marker in ("perf_report", "benchmark", ".run(", "manual_seed", "print(", "__main__", "assert "):
        assert marker not in result.code
    compile(result.code, task, "exec")


@pytest.mark.parametrize("task", TASK_NAMES)
def test_kept_statements_are_byte_identical_to_the_tutorial(task):
    spec = expert(task)
    source = (FIXTURE_TUTORIALS / spec["tutorial"]).read_text()
    for statement in kept_statements(extract_tutorial(source, spec["entry"]).code):
        assert statement in source


def test_if_block_that_binds_a_needed_name_is_kept_whole():
    source = textwrap.dedent("""\
        import os
        if os.name == "posix":
            SEP = "/"
            print("posix")
        else:
            SEP = "\\\\"
        if __name__ == "__main__":
            print(join("a", "b"))
        def join(a, b):
            return a + SEP + b
        """)
    result = extract_tutorial(source, "join")
    assert 'print("posix")' in result.code
    assert "__main__" not in result.code
    assert result.kept == ["os", "SEP", "join"]


def test_function_body_reads_the_last_binding_and_import_time_reads_the_one_before():
    source = textwrap.dedent("""\
        SCALE = 1
        FACTOR = SCALE * 2
        SCALE = 3
        def scaled(x):
            return x * FACTOR * SCALE
        SCALE = 4
        """)
    result = extract_tutorial(source, "scaled")
    # FACTOR reads SCALE = 1 when the module runs; scaled() reads the module's last SCALE, 4.
    assert "SCALE = 1" in result.code
    assert "SCALE = 4" in result.code
    assert "SCALE = 3" not in result.code
    assert [d.line for d in result.dropped] == [3]


def test_a_binding_on_a_condition_keeps_the_binding_before_it():
    # Tutorial 06 of triton 3.6: a list of configurations, replaced by one when run under pytest.
    source = textwrap.dedent("""\
        import os
        OPTIONS = [1, 2]
        OPTIONS = [2, 3]
        if "UNDER_TEST" in os.environ:
            OPTIONS = [3]
        for extra in range(0):
            OPTIONS = OPTIONS + [extra]
        def tuned(x):
            return [x * option for option in OPTIONS]
        CHOSEN = list(OPTIONS)
        """)
    result = extract_tutorial(source, "tuned")
    # The loop and the `if` may bind nothing: the unconditional binding before them is kept, the one before that not.
    assert "OPTIONS = [2, 3]" in result.code and 'if "UNDER_TEST"' in result.code and "for extra" in result.code
    assert "OPTIONS = [1, 2]" not in result.code
    namespace = {}
    exec(compile(result.code, "<extracted>", "exec"), namespace)
    assert namespace["tuned"](1) == [2, 3]


def test_decorators_defaults_class_bodies_and_forward_references_are_followed():
    source = textwrap.dedent("""\
        def deco(f):
            return f
        DEFAULT = 2
        class Base:
            pass
        class Op(Base):
            factor = FACTOR_AT_CLASS
            @staticmethod
            @deco
            def apply(x, k=DEFAULT):
                return helper(x) * k
        FACTOR_AT_CLASS = 5
        def helper(x):
            return x
        def unused():
            return 0
        """)
    with pytest.raises(ExtractError, match=r"FACTOR_AT_CLASS \(line 6, read at import before its definition on line"):
        extract_tutorial(source, "Op.apply")
    fixed = source.replace("    factor = FACTOR_AT_CLASS\n", "")
    result = extract_tutorial(fixed, "Op.apply")
    assert result.kept == ["deco", "DEFAULT", "Base", "Op", "helper"]


def test_statement_sharing_a_line_keeps_only_its_own_columns():
    result = extract_tutorial("import math; X = 2; Y = 3\ndef f():\n    return X * math.pi\n", "f")
    assert result.code == "import math\nX = 2\n\n\ndef f():\n    return X * math.pi\n"


def test_dropped_statement_that_modifies_a_kept_name_is_a_warning():
    source = "CONFIGS = []\nCONFIGS.append(1)\ndef configs():\n    return CONFIGS\n"
    result = extract_tutorial(source, "configs")
    assert result.warnings == ["line 2: a dropped statement binds or modifies 'CONFIGS', kept from line 1"]


def test_loop_that_binds_a_needed_name_is_kept_with_its_own_loop_variable():
    source = "TOTAL = 0\nfor size in (1, 2):\n    TOTAL += size\nprint(TOTAL)\ndef total():\n    return TOTAL\n"
    result = extract_tutorial(source, "total")
    assert result.code == "TOTAL = 0\nfor size in (1, 2):\n    TOTAL += size\n\n\ndef total():\n    return TOTAL\n"


def test_global_declaration_keeps_the_binding_it_updates():
    source = "CALLS = 0\ndef counted(x):\n    global CALLS\n    CALLS += 1\n    return x\n"
    assert extract_tutorial(source, "counted").kept == ["CALLS", "counted"]


def test_comprehension_variables_are_not_module_names():
    result = extract_tutorial("SIZES = [2 ** i for i in range(4)]\ndef sizes():\n    return SIZES\n", "sizes")
    assert result.kept == ["SIZES", "sizes"]


# Errors.


def test_undefined_entry_names_the_name_and_the_file():
    with pytest.raises(ExtractError, match=r"entry 'Softmax\.apply': 'Softmax' is not defined at the top level of t"):
        extract_tutorial("def softmax(x):\n    return x\n", "Softmax.apply", "t.py")


def test_syntax_error_names_the_line():
    with pytest.raises(ExtractError, match=r"^t\.py:2: syntax error: "):
        extract_tutorial("import torch\ndef softmax(x:\n", "softmax", "t.py")


def test_name_defined_nowhere_is_an_error():
    with pytest.raises(ExtractError, match=r"kept code reads undefined names: NUM_SM \(line 1\)"):
        extract_tutorial("def softmax(x):\n    return x * NUM_SM + len(x)\n", "softmax")


def test_missing_tutorials_dir_is_an_error_per_task_with_the_path_and_a_checkout_command(tmp_path):
    missing = tmp_path / "no-triton"
    rc, records = run_extract(tmp_path, missing)
    assert rc == 1
    assert sorted(records) == sorted({task for task, _ in tutorial_experts()} | {"asin"})
    for record in records.values():
        assert record["status"] == "error"
        assert f"Triton tutorials not found: {missing} does not exist" in record["message"]
        assert "git clone --depth 1 --filter=blob:none --sparse --branch v" in record["message"]
        assert "sparse-checkout set python/tutorials" in record["message"]
    # Only library experts (which need no checkout) may have written a module.
    assert all(path.name.endswith(".liger.py") for path in (tmp_path / "out").glob("*.py"))


def test_missing_tutorial_file_fails_that_task_only(tmp_path):
    tutorials = tmp_path / "tutorials"
    tutorials.mkdir()
    shutil.copy(FIXTURE_TUTORIALS / "02-fused-softmax.py", tutorials)
    rc, records = run_extract(tmp_path, tutorials)
    assert rc == 1
    assert records["softmax"]["status"] == "ok"
    missing = tutorials / "03-matrix-multiplication.py"
    assert records["matmul"]["message"].startswith(
        f"task matmul, expert tutorial: tutorial file not found: {missing}; get them with"
    )
    assert (tmp_path / "out" / "softmax.tutorial.py").exists()
    assert not (tmp_path / "out" / "matmul.tutorial.py").exists()


def test_cli_records_undefined_entry_and_syntax_errors_and_removes_stale_modules(tmp_path):
    tasks, tutorials = tmp_path / "tasks", tmp_path / "tutorials"
    tutorials.mkdir()
    (tutorials / "broken.py").write_text("import torch\n\ndef f(:\n")
    (tutorials / "fine.py").write_text("def f(x):\n    return x\n")
    write_task(tasks, "broken", "broken.py", "f")
    write_task(tasks, "wrong_entry", "fine.py", "LayerNorm.apply")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "broken.tutorial.py").write_text("# from an earlier run\n")
    rc, records = run_extract(tmp_path, tutorials, tasks=tasks)
    assert rc == 1
    assert records["broken"]["message"] == (
        f"task broken, expert tutorial: {tutorials / 'broken.py'}:3: syntax error: invalid syntax"
    )
    assert records["wrong_entry"]["message"] == (
        f"task wrong_entry, expert tutorial: entry 'LayerNorm.apply': 'LayerNorm' is not defined at the top level of "
        f"{tutorials / 'fine.py'}")
    assert not (tmp_path / "out" / "broken.tutorial.py").exists()


def test_configuration_errors_are_reported_together_with_exit_2(tmp_path, capsys):
    tasks = tmp_path / "tasks"
    write_task(tasks, "bad", "/abs/tutorial.py", "f")
    rc, _ = run_extract(tmp_path, FIXTURE_ROOT, "--task", "bad", "--task", "nope", tasks=tasks)
    assert rc == 2
    err = capsys.readouterr().err
    assert 'expert[0].tutorial: "/abs/tutorial.py" must be a file name in python/tutorials' in err
    assert "unknown task 'nope'" in err


def test_checkout_hint_uses_the_installed_release_tag():
    assert "--branch v3.6.0 https://github.com/triton-lang/triton" in checkout_hint("3.6.0+git1234abc")
    assert "--branch vX.Y.Z" in checkout_hint(None)


# The command line on the fixtures, and the extracted modules running on the CPU.


def test_cli_writes_a_module_with_its_header_and_the_report(tmp_path):
    rc, records = run_extract(tmp_path, FIXTURE_ROOT)
    assert rc == 0
    for task in TASK_NAMES:
        record, spec = records[task], expert(task)
        path = FIXTURE_TUTORIALS / spec["tutorial"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (record["status"], record["path"], record["sha256"], record["entry"]) == ("ok", str(path), digest,
                                                                                           spec["entry"])
        assert record["kept"] == FIXTURE_KEPT[task]
        module = Path(record["module"]).read_text()
        assert f"# source: {path}\n# sha256: {digest}\n" in module
        assert f"# entry: {spec['entry']}\n" in module
        for dropped in record["dropped"]:
            assert f"#   {dropped['line']:>5}  {dropped['kind']:<9} {dropped['name']}".rstrip() + "\n" in module
        assert module.endswith(extract_tutorial(path.read_text(), spec["entry"]).code)


def tutorial_experts() -> list[tuple[str, int]]:
    """(task, index) of every tutorial [[expert]] of the suite whose task the interpreter can run."""
    found = []
    for manifest in sorted(TASKS.glob("*/task.toml")):
        raw = tomllib.loads(manifest.read_text())
        for i, spec in enumerate(raw.get("expert", [])):
            if "tutorial" in spec and "interpret_check_sizes" in raw:
                found.append((manifest.parent.name, i))
    return found


@pytest.mark.skipif(importlib.util.find_spec("triton") is None or importlib.util.find_spec("torch") is None,
                    reason="torch and triton are not installed")
@pytest.mark.parametrize(("task", "index"), tutorial_experts(), ids=lambda v: str(v))
def test_extracted_fixture_passes_the_workers_checks_under_the_interpreter(task, index, tmp_path, run_worker):
    # The fixture stands in for the tutorial (even where the real one cannot run on a CPU, which the manifest's
    # interpret_skip says): extracted, it must pass every check of the task, every distribution included.
    spec = tomllib.loads((TASKS / task / "task.toml").read_text())["expert"][index]
    out = tmp_path / "out"
    argv = ["--tutorials", str(FIXTURE_ROOT), "--tasks-dir", str(TASKS), "--out", str(out), "--task", task]
    assert main(argv) in (0, 1)
    module = out / f"{task}.{spec['name']}.py"
    assert module.exists(), (out / "extract.json").read_text()
    result, _ = run_worker(make_request(task, module, entry=spec["entry"], name="expert"))
    assert result["status"] == "ok", f"{result['message']}\n{result['detail']}"
    assert result["checks"] and all(check["ok"] for check in result["checks"])


@pytest.mark.skipif(importlib.util.find_spec("liger_kernel") is None,
                    reason="liger-kernel is not installed (python/requirements-experts.txt)")
def test_library_expert_imports_its_names_and_records_the_version(tmp_path):
    out = tmp_path / "out"
    main(["--tasks-dir", str(TASKS), "--out", str(out), "--task", "rms_norm"])
    record = json.loads((out / "extract.json").read_text())["tasks"][0]
    assert (record["status"], record["source"], record["expert"]) == ("ok", "library", "liger"), record["message"]
    assert record["library_version"].replace("_", "-") == f"liger-kernel {importlib.metadata.version('liger-kernel')}"
    assert record["path"].endswith("liger_kernel/ops/rms_norm.py")
    assert record["sha256"] == hashlib.sha256(Path(record["path"]).read_bytes()).hexdigest()
    code = Path(record["module"]).read_text()
    assert code.endswith("\nfrom liger_kernel.ops.rms_norm import LigerRMSNormFunction\n")
    assert "# expert: liger\n" in code


def test_library_expert_that_is_not_installed_says_what_to_install(tmp_path):
    tasks = tmp_path / "tasks"
    (tasks / "demo").mkdir(parents=True)
    (tasks / "demo" / "task.toml").write_text(
        MINIMAL_MANIFEST.format(name="demo")
        + '\n[[expert]]\nname = "lib"\nmodule = "no_such_library_xyz.ops"\nnames = ["f"]\nentry = "f"\n'
    )
    rc, _ = run_extract(tmp_path, FIXTURE_ROOT, tasks=tasks)
    record = json.loads((tmp_path / "out" / "extract.json").read_text())["tasks"][0]
    assert rc == 1 and record["status"] == "error"
    assert "no_such_library_xyz is not installed in" in record["message"]
    assert "python/requirements-experts.txt" in record["message"]


def test_entry_lambda_parameters_are_not_module_names():
    source = "import torch\nx = torch.ones(3)\n\ndef kernel(a):\n    return a\n"
    result = extract_tutorial(source, "lambda x: kernel(x) if torch.is_tensor(x) else len(x)")
    assert result.kept == ["torch", "kernel"]
    assert ("assign", "x") in [(d.kind, d.name) for d in result.dropped]


def test_unused_imports_are_dropped():
    source = "import tabulate\nimport torch\n\ndef f(x):\n    return torch.abs(x)\n"
    result = extract_tutorial(source, "f")
    assert result.kept == ["torch", "f"]
    assert result.dropped[0].kind == "import"


# The real tutorials, where a checkout was placed in .tutorials (git-ignored).

REAL_KEPT = {
    "softmax": {"softmax", "softmax_kernel", "DEVICE", "driver", "properties", "NUM_SM", "NUM_REGS", "SIZE_SMEM",
                "WARP_SIZE", "is_hip", "is_cdna"},
    "layernorm": {"LayerNorm", "_layer_norm_fwd_fused", "_layer_norm_bwd_dx_fused", "_layer_norm_bwd_dwdb"},
    "matmul": {"matmul", "matmul_kernel", "leaky_relu", "get_autotune_config", "get_cuda_autotune_config",
               "get_hip_autotune_config", "is_cuda"},
}


@pytest.mark.skipif(not REAL_TUTORIALS.is_dir(), reason=f"no Triton tutorials at {REAL_TUTORIALS}")
@pytest.mark.parametrize("task", TASK_NAMES)
def test_real_tutorial_extracts_kernels_without_tests_or_benchmarks(task):
    spec = expert(task)
    source = (REAL_TUTORIALS / spec["tutorial"]).read_text()
    result = extract_tutorial(source, spec["entry"])
    assert REAL_KEPT[task] <= set(result.kept)
    module = ast.parse(result.code)
    assert not [node for node in module.body if isinstance(node, (ast.Expr, ast.Assert, ast.For, ast.While))]
    assert "perf_report" not in result.code
    assert "benchmark" not in top_level_names(result.code)
    for statement in kept_statements(result.code):
        assert statement in source
