"""The AST checks made on a candidate's source before it is imported."""

import pytest

from tritonize_worker.static_checks import check_source

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


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ndef f(x):\n    return getattr(torch, 'soft' + 'max')(x)\n",
        "def f(x):\n    return eval('x')\n",
        "import importlib\n",
        "import ctypes\n",
        "from subprocess import run\n",
    ],
)
def test_dynamic_code_that_would_hide_an_op_is_rejected(source):
    assert "no_dynamic_code" in checks(source)


def test_streams_of_its_own_are_rejected():
    assert checks("import torch\ns = torch.cuda.Stream()\n") == ["no_side_streams"]
    assert checks("import torch\nwith torch.cuda.stream(None):\n    pass\n") == ["no_side_streams"]


def test_the_shipped_llm_candidates_pass():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for task in ("softmax", "layernorm", "matmul"):
        with open(root / "tasks" / task / "task.toml", "rb") as file:
            forbidden = tuple(tomllib.load(file)["checks"]["forbidden"])
        source = (root / "llm_triton" / "claude-devsession-oneshot" / f"{task}.py").read_text()
        assert check_source(source, forbidden) == [], task
