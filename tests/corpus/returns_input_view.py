"""Returns a view of its input (no work at all)."""


def softmax(x):
    return x.view(x.shape)
