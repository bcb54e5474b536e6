"""Reaches the op through an import alias."""

import torch.nn.functional as F  # noqa: N812


def softmax(x):
    return F.softmax(x, -1)
