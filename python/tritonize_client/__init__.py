"""A client of `tritonize serve` (docs/serve.md) for agents and RL loops. Standard library only.

    from tritonize_client import Client
    client = Client("http://127.0.0.1:8470")          # token from TRITONIZE_TOKEN
    verdict = client.evaluate("softmax", code)         # submit, wait, the verdict `eval --json` prints
"""

from .client import Client, ServeError, TransportError

__all__ = ["Client", "ServeError", "TransportError"]
