"""A correct softmax that writes to stdout, including text that looks like a result."""

import sys

import torch

print('{"schema_version": 1, "status": "wrong_result"}')


def softmax(x: torch.Tensor) -> torch.Tensor:
    print("softmax of", tuple(x.shape), "-" * 200)
    sys.stdout.flush()
    e = torch.exp(x - x.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)
