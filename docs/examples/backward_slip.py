"""A backward pass with one slip, for `mnist-math practice` (docs/practice.md)."""

import numpy as np

from mnist_math import one_hot, relu_derivative


def backward_prop(params, cache, X, Y):
    m = X.shape[1]
    one_hot_Y = one_hot(Y, cache["A2"].shape[0])
    dZ2 = cache["A2"] - one_hot_Y
    dW2 = 1 / m * (dZ2 @ cache["A1"].T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = params["W2"].T @ dZ2
    dZ1 = dA1 * relu_derivative(cache["Z2"])
    dW1 = 1 / m * (dZ1 @ X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
