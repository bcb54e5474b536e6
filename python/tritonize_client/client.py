"""The HTTP client: one method per endpoint of docs/serve.openapi.yaml, with retries.

Retries: a request that could not reach the server (connection refused, reset, timed out) and the answers 429 (rate
limit), 502, 503 (queue full) and 504 are retried with exponential backoff, honouring `Retry-After`. Retrying a
submission is safe: the server answers an equal submission (same task, code and options) with the evaluation it
already has, so a retried POST whose first answer was lost never makes a second evaluation. The exception is `force`,
which asks for a new evaluation each time: such a POST is retried only when it surely did not arrive (connection
refused) or was refused whole (429, 503). Other 4xx answers are errors of the request and raise `ServeError` at once.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any

FINAL_STATUSES = ("done", "cancelled")
RETRY_STATUSES = (429, 502, 503, 504)
MAX_BATCH = 256  # the server's default --max-batch


class ServeError(Exception):
    """The server refused a request: its HTTP status, the field at fault and why."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(f"{status}" + (f" {field}" if field else "") + f": {message}")
        self.status = status
        self.field = field
        self.message = message


class TransportError(Exception):
    """The server could not be reached after every retry."""


class Client:
    def __init__(
        self,
        url: str = "http://127.0.0.1:8470",
        token: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 8,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ):
        self.url = url.rstrip("/")
        self._token = token if token is not None else os.environ.get("TRITONIZE_TOKEN", "")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.retried = 0  # requests sent again, over the client's life (for load figures)

    def __repr__(self) -> str:  # never the token
        return f"Client({self.url!r})"

    # -- the endpoints -------------------------------------------------------------------------------------------

    def submit(
        self,
        task: str,
        code: str,
        *,
        sizes: Sequence[str] | None = None,
        timing: bool | None = None,
        repeat: int | None = None,
        seed: int | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        """Queues one candidate: {id, status, position, existing}."""
        body = _submission(task, code, sizes=sizes, timing=timing, repeat=repeat, seed=seed, force=force)
        return self._request("POST", "/v1/evaluations", body, idempotent=not force)

    def submit_many(self, submissions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Queues many ({task, code, options?, force?} each), in batches; one answer per submission, in order."""
        items = list(submissions)
        answers: list[dict[str, Any]] = []
        for start in range(0, len(items), MAX_BATCH):
            batch = items[start : start + MAX_BATCH]
            idempotent = not any(item.get("force") for item in batch)
            answer = self._request("POST", "/v1/evaluations", {"evaluations": batch}, idempotent=idempotent)
            answers.extend(answer["evaluations"])
        return answers

    def get(self, evaluation_id: int) -> dict[str, Any]:
        return self._request("GET", f"/v1/evaluations/{int(evaluation_id)}")

    def get_many(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        for start in range(0, len(ids), MAX_BATCH):
            query = ",".join(str(int(i)) for i in ids[start : start + MAX_BATCH])
            answers.extend(self._request("GET", f"/v1/evaluations?ids={query}")["evaluations"])
        return answers

    def cancel(self, evaluation_id: int) -> dict[str, Any]:
        return self._request("DELETE", f"/v1/evaluations/{int(evaluation_id)}")

    def tasks(self) -> list[dict[str, Any]]:
        return self._request("GET", "/v1/tasks")["tasks"]

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/v1/health")

    # -- waiting ---------------------------------------------------------------------------------------------------

    def wait(self, evaluation_id: int, timeout_s: float | None = None, poll_s: float = 1.0) -> dict[str, Any]:
        """Polls until the evaluation is done or cancelled; returns its object (with `verdict` when done)."""
        return self.wait_many([evaluation_id], timeout_s=timeout_s, poll_s=poll_s)[0]

    def wait_many(
        self, ids: Sequence[int], timeout_s: float | None = None, poll_s: float = 1.0
    ) -> list[dict[str, Any]]:
        """Polls a batch until every one is final; in the order of `ids`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        final: dict[int, dict[str, Any]] = {}
        while True:
            pending = [i for i in ids if i not in final]
            if not pending:
                return [final[i] for i in ids]
            for evaluation in self.get_many(pending):
                if evaluation.get("status") in FINAL_STATUSES:
                    final[evaluation["id"]] = evaluation
                elif evaluation.get("status") is None:
                    raise ServeError(404, "id", f"no evaluation {evaluation.get('id')}")
            if deadline is not None and time.monotonic() > deadline and len(final) < len(ids):
                raise TimeoutError(f"{len(ids) - len(final)} evaluations not finished after {timeout_s} s")
            if len(final) < len(ids):
                time.sleep(poll_s)

    def evaluate(self, task: str, code: str, timeout_s: float | None = None, **options: Any) -> dict[str, Any]:
        """Submits and waits: the verdict (the object `tritonize eval --json` prints)."""
        accepted = self.submit(task, code, **options)
        evaluation = self.wait(accepted["id"], timeout_s=timeout_s)
        if evaluation["status"] != "done":
            raise ServeError(409, "id", f"evaluation {accepted['id']} was {evaluation['status']}")
        return evaluation["verdict"]

    # -- transport -------------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, idempotent: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        attempt = 0
        while True:
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                status = error.code
                payload = _error_payload(error)
                if status not in RETRY_STATUSES or attempt >= self.retries:
                    raise ServeError(status, payload.get("field", ""), payload.get("message", str(error))) from None
                retry_after = _retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as error:
                # HTTPException: the answer was cut short (IncompleteRead, a server killed mid-answer).
                reason = getattr(error, "reason", error)
                # Refused: the request never arrived, so even a forced submission may be sent again.
                refused = isinstance(reason, ConnectionRefusedError)
                if attempt >= self.retries or not (idempotent or refused):
                    raise TransportError(f"{method} {self.url}{path}: {reason}") from None
            attempt += 1
            self.retried += 1
            time.sleep(self._delay(attempt, retry_after))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff_s)
        # Exponential with full jitter, so that many clients refused together do not return together.
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))


def _submission(task: str, code: str, *, sizes, timing, repeat, seed, force) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if sizes is not None:
        options["sizes"] = list(sizes)
    if timing is not None:
        options["timing"] = timing
    if repeat is not None:
        options["repeat"] = repeat
    if seed is not None:
        options["seed"] = seed
    body: dict[str, Any] = {"task": task, "code": code}
    if options:
        body["options"] = options
    if force:
        body["force"] = True
    return body


def _error_payload(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        payload = json.loads(error.read() or b"{}")
    except ValueError:
        return {}
    return payload.get("error", {}) if isinstance(payload, dict) else {}


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
