"""The AST checks made on a candidate's source before it is imported."""

import pytest

from tritonize_worker.static_checks import EVIDENCE_CHECKS, VERDICT_CHECKS, check_source

SOFTMAX = ("torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax")
MATMUL = ("torch.matmul", "torch.Tensor.__matmul__")


def checks(source: str, forbidden=SOFTMAX) -> list[str]:
    return [violation.check for violation in check_source(source, forbidden)]


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ndef f(x):\n    return torch.softmax(x, -1)\n",
        "import torch.nn.functional as F\ndef f(x):\n    return F.softmax(x, -1)\n",
        "from torch.nn.functional import softmax as s\ndef f(x):\n    return s(x, -1)\n",
        "def f(x):\n    return x.softmax(-1)\n",
        "import torch\ng = torch.softmax\n",
        "import torch\ndef f(x):\n    return getattr(torch, 'softmax')(x, -1)\n",
    ],
)
def test_a_forbidden_op_is_found_however_it_is_reached(source):
    assert set(checks(source)) == {"forbidden_op"}


def test_matmul_operator_is_the_forbidden_matmul():
    assert checks("def f(a, b):\n    return a @ b\n", MATMUL) == ["forbidden_op"]
    assert checks("def f(a, b):\n    return a * b\n", MATMUL) == []


def test_triton_code_and_other_torch_ops_pass():
    source = "import torch\nimport triton.language as tl\ndef f(x):\n    return tl.max(torch.empty_like(x))\n"
    assert checks(source) == []


def test_an_except_that_swallows_is_a_fallback_and_one_that_reraises_is_not():
    fallback = "def f(x):\n    try:\n        return g(x)\n    except Exception:\n        return x\n"
    reraise = "def f(x):\n    try:\n        return g(x)\n    except KeyError as e:\n        raise ValueError() from e\n"
    assert checks(fallback) == ["no_fallback"]
    assert checks(reraise) == []


def verdicts(source: str, forbidden=SOFTMAX) -> list[str]:
    return [violation.check for violation in check_source(source, forbidden) if violation.verdict]


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    return eval('x')\n",
        "exec('import torch')\n",
        "code = compile('1', 'f', 'eval')\n",
    ],
)
def test_code_from_strings_is_a_verdict(source):
    assert verdicts(source) == ["no_dynamic_code"]


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ndef f(x):\n    return getattr(torch, 'soft' + 'max')(x)\n",
        "import importlib\nimportlib.util.find_spec('triton.tools')\n",
        "import ctypes\n",
        "from subprocess import run\n",
        "import os\nos.system('ls')\n",
        "f = __import__('torch')\n",
    ],
)
def test_names_the_scan_cannot_follow_are_evidence_not_a_verdict(source):
    found = checks(source)
    assert found and set(found) <= {"dynamic_reference"}, found
    assert verdicts(source) == []


def test_re_compile_is_not_the_builtin():
    assert checks("from re import compile\np = compile('a+')\n") == []


def test_a_forbidden_op_and_a_fallback_are_evidence_only():
    source = (
        "import torch\ndef f(x):\n    try:\n        return g(x)\n    except Exception:\n"
        "        return torch.softmax(x, -1)\n"
    )
    assert sorted(checks(source)) == ["forbidden_op", "no_fallback"]
    assert verdicts(source) == []


@pytest.mark.parametrize(
    "source, what",
    [
        ("import time\ntime.perf_counter = lambda: 0.0\n", "time.perf_counter"),
        ("import torch\ntorch.isclose = lambda *a, **k: True\n", "torch.isclose"),
        ("import torch as t\nt.Tensor.clone = None\n", "torch.Tensor.clone"),
        ("import torch\nsetattr(torch, 'allclose', None)\n", "torch.allclose"),
        ("import triton.testing\ndel triton.testing.do_bench\n", "triton.testing.do_bench"),
    ],
)
def test_patching_what_the_worker_measures_with_is_a_verdict(source, what):
    found = [v for v in check_source(source, SOFTMAX) if v.verdict]
    assert [v.check for v in found] == ["trusted_functions"]
    assert what in str(found[0])


def test_settings_are_not_patches():
    source = "import torch\ntorch.backends.cuda.matmul.allow_tf32 = True\ntorch._inductor.config.x = 1\n"
    assert checks(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import gc\nobjs = gc.get_objects()\n",
        "from gc import get_referrers\n",
        "import sys\nframe = sys._getframe(1)\n",
        "import inspect\nf = inspect.currentframe().f_back\n",
        "def f(g):\n    return g.__globals__\n",
        "subs = object.__subclasses__()\n",
        "import sys\nw = sys.modules['tritonize_worker.guards']\n",
        "import tritonize_worker.trusted\n",
        "import torch\nwith torch._C._DisableTorchDispatch():\n    pass\n",
        "import torch\ntorch._C._autograd._disable_profiler()\n",
        "import torch.profiler\n",
        "import sys\nsys.setprofile(None)\n",
    ],
)
def test_reaching_into_the_workers_process_is_a_verdict(source):
    assert set(verdicts(source)) == {"no_harness_access"}


def test_streams_of_its_own_are_rejected():
    assert verdicts("import torch\ns = torch.cuda.Stream()\n") == ["no_side_streams"]
    assert verdicts("import torch\nwith torch.cuda.stream(None):\n    pass\n") == ["no_side_streams"]


def test_every_check_is_a_verdict_or_evidence():
    assert not VERDICT_CHECKS & EVIDENCE_CHECKS


def test_the_shipped_llm_candidates_pass():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for task in ("softmax", "layernorm", "matmul"):
        with open(root / "tasks" / task / "task.toml", "rb") as file:
            forbidden = tuple(tomllib.load(file)["checks"]["forbidden"])
        source = (root / "llm_triton" / "claude-devsession-oneshot" / f"{task}.py").read_text()
        assert check_source(source, forbidden) == [], task
