"""tritonize_client against a scripted HTTP server on loopback (retries, errors), and the load script against the
real `tritonize serve` binary when it is built (scripts/test.sh builds it first)."""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from tritonize_client import Client, ServeError, TransportError
from tritonize_client.example import reward

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / "build" / "tritonize"


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers from `script` in order: (status, body, headers); records what it saw."""

    script: ClassVar[list] = []
    seen: ClassVar[list] = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Scripted.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        status, payload, headers = Scripted.script.pop(0) if Scripted.script else (500, {}, {})
        data = json.dumps(payload).encode()
        if headers.get("cut"):  # a server that dies mid-answer: fewer bytes than announced, then closed
            self.send_response(status)
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[:5])
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Scripted.script, Scripted.seen = [], []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def fast(url, **kwargs):
    return Client(url, token="tok-0123456789abcdef", backoff_s=0.01, max_backoff_s=0.05, **kwargs)


def test_submit_sends_the_token_and_only_given_options(server):
    Scripted.script = [(202, {"id": 7, "status": "queued", "position": 0, "existing": False}, {})]
    answer = fast(server).submit("softmax", "code", sizes=["1024x1024"], seed=3)
    assert answer["id"] == 7
    method, path, auth, body = Scripted.seen[0]
    assert (method, path, auth) == ("POST", "/v1/evaluations", "Bearer tok-0123456789abcdef")
    assert json.loads(body) == {"task": "softmax", "code": "code", "options": {"sizes": ["1024x1024"], "seed": 3}}


def test_rate_limit_and_full_queue_are_retried_after_retry_after(server):
    Scripted.script = [
        (429, {"error": {"status": 429, "field": "", "message": "slow down"}}, {"Retry-After": "0"}),
        (503, {"error": {"status": 503, "field": "", "message": "full"}}, {"Retry-After": "0"}),
        (202, {"id": 1, "status": "queued", "position": 0, "existing": False}, {}),
    ]
    client = fast(server)
    assert client.submit("softmax", "x")["id"] == 1
    assert client.retried == 2
    assert len(Scripted.seen) == 3
    assert Scripted.seen[0][3] == Scripted.seen[2][3], "the same body each time: the server dedupes it"


def test_an_answer_cut_short_is_retried(server):
    Scripted.script = [
        (202, {"id": 3}, {"cut": "1"}),
        (202, {"id": 3, "status": "queued", "position": 0, "existing": True}, {}),
    ]
    client = fast(server)
    assert client.submit("softmax", "x")["id"] == 3
    assert client.retried == 1


def test_request_errors_raise_at_once_naming_the_field(server):
    Scripted.script = [(400, {"error": {"status": 400, "field": "options.repeat", "message": "must be 1 to 5"}}, {})]
    with pytest.raises(ServeError) as error:
        fast(server).submit("softmax", "x", repeat=9)
    assert error.value.status == 400
    assert error.value.field == "options.repeat"
    assert len(Scripted.seen) == 1, "a 4xx is not retried"


def test_retries_give_up_after_the_limit(server):
    Scripted.script = [(503, {}, {"Retry-After": "0"})] * 5
    with pytest.raises(ServeError) as error:
        fast(server, retries=2).health()
    assert error.value.status == 503
    assert len(Scripted.seen) == 3


def test_unreachable_server_is_a_transport_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = fast(f"http://127.0.0.1:{port}", retries=2)
    with pytest.raises(TransportError):
        client.tasks()
    assert client.retried == 2


def test_wait_polls_the_batch_until_final(server):
    queued = {"id": 1, "status": "queued", "position": 0}
    done = {"id": 1, "status": "done", "verdict": {"status": "ok", "sizes": []}}
    other = {"id": 2, "status": "cancelled"}
    Scripted.script = [(200, {"evaluations": [queued, other]}, {}), (200, {"evaluations": [done]}, {})]
    final = fast(server).wait_many([1, 2], poll_s=0.01)
    assert [e["status"] for e in final] == ["done", "cancelled"]
    assert Scripted.seen[1][1] == "/v1/evaluations?ids=1"


def test_reward_from_a_verdict():
    verdict = {"status": "ok", "sizes": [{"size": "1024x1024", "kernel_us": {"median": 4.0}},
                                        {"size": "4096x4096", "kernel_us": {"median": 40.0}}]}
    assert reward(verdict)["reward"] == 1.0
    assert reward(verdict)["kernel_us"] == 40.0
    assert reward({"status": "wrong_result", "sizes": []})["reward"] == 0.0


def test_repr_never_shows_the_token(server):
    assert "tok-" not in repr(fast(server))


@pytest.mark.skipif(not BINARY.exists(), reason="build/tritonize not built (scripts/test.sh builds it first)")
@pytest.mark.skipif(not os.environ.get("TRITONIZE_PYTHON"), reason="TRITONIZE_PYTHON not set")
def test_load_script_at_small_scale_with_a_kill(tmp_path):
    """scripts/serve_load.py, the full load test's script, at 48 submissions (12 distinct) from 8 clients with its
    kill -9."""
    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "serve_load.py"), "--binary", str(BINARY), "--submissions", "48",
         "--distinct", "12", "--clients", "8", "--lanes", "2", "--timeout", "600", "--json",
         str(tmp_path / "load.json")],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    figures = json.loads((tmp_path / "load.json").read_text())
    assert figures["accepted"] == 48
    assert figures["answered"] == 12
    assert figures["equal_submissions_split"] == 0
    assert figures["stored_jobs"] == 12
    assert figures["evaluations_run_twice"] == 0
    assert figures["killed_after_accepted"] is not None
