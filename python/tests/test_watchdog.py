"""watchdog.py: the phase deadlines, in a process of their own (a deadline that passes ends the process)."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def run(script: str) -> tuple[str, float]:
    """Runs `script` with a Watchdog `dog` whose timeout prints the phase, limit and what; returns stdout, seconds."""
    prelude = textwrap.dedent(
        """
        import time
        from tritonize_worker.watchdog import Watchdog
        dog = Watchdog(lambda phase, limit, what: print(f"{phase}|{limit:g}|{what}", flush=True), poll_s=0.01)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        cwd=PACKAGE, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), time.monotonic() - started


def test_the_work_after_a_compile_has_the_call_timeout_from_the_compiles_end():
    out, took = run(
        """
        dog.enter("compile", 30, after_compile_s=0.3)
        time.sleep(0.5)            # compiling longer than the call timeout is fine
        dog.compile_started()
        time.sleep(0.5)
        dog.compile_ended()        # then 0.3 s for the GPU work
        time.sleep(30)
        """
    )
    assert out == "compile|0.3|its GPU work after its last compile ended, which has the call timeout"
    assert took < 10


def test_compiles_at_once_start_the_call_timeout_when_the_last_one_ends():
    out, took = run(
        """
        dog.enter("compile", 30, after_compile_s=0.4)
        dog.compile_started()
        dog.compile_started()      # two configurations compiling on two threads
        dog.compile_ended()
        time.sleep(0.8)            # the second still compiles: no call timeout yet
        dog.compile_ended()
        print("both ended", flush=True)
        time.sleep(30)
        """
    )
    assert out == "both ended\ncompile|0.4|its GPU work after its last compile ended, which has the call timeout"
    assert took < 10


def test_a_new_compile_has_the_phases_own_deadline_again():
    out, _ = run(
        """
        dog.enter("compile", 1.0, after_compile_s=0.3)
        dog.compile_started()
        dog.compile_ended()
        time.sleep(0.1)
        dog.compile_started()      # the next kernel compiles: the phase's deadline, 1 s from its start
        time.sleep(30)
        """
    )
    assert out == "compile|1|"


def test_the_call_timeout_after_a_compile_never_ends_past_the_phases_deadline():
    out, took = run(
        """
        dog.enter("compile", 0.5, after_compile_s=20)
        dog.compile_started()
        dog.compile_ended()
        time.sleep(30)
        """
    )
    assert out == "compile|0.5|"
    assert took < 10


def test_a_phase_without_a_call_timeout_ignores_compiles():
    out, _ = run(
        """
        dog.enter("call", 0.4, "the third call")
        dog.compile_started()
        dog.compile_ended()
        time.sleep(30)
        """
    )
    assert out == "call|0.4|the third call"


def test_the_call_timeout_after_a_compile_gives_way_where_compiles_go_unreported():
    out, took = run(
        """
        dog.unreported_compiles = lambda: True   # torch.compile has compiled in the process
        dog.enter("compile", 1.5, after_compile_s=0.2)
        dog.compile_started()
        dog.compile_ended()
        time.sleep(30)
        """
    )
    assert out == "compile|1.5|"  # the phase's own deadline, not 0.2 s after the compile
    assert took < 10
