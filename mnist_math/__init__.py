# ~/~ begin <<docs/engineering.md#mnist_math/__init__.py>>[init]
"""mnist-math: a neural network that reads handwritten digits, derived and tested.

Every function here is tangled from a chapter of the book; its docstring links back to
the equation it implements.
"""

from ._checks import DivergenceError
from .activations import relu, relu_derivative, softmax
from .backward import backward_prop
from .data import load_mnist
from .fast import train_fast
from .forward import forward_prop, init_params
from .further import (
    adam_update,
    init_adam,
    init_momentum,
    momentum_update,
    train_minibatch,
)
from .handwriting import preprocess_image, read_image
from .loss import cross_entropy, one_hot
from .model_io import load_params, save_params
from .train import accuracy, get_predictions, gradient_descent, predict, update_params

__all__ = [
    "DivergenceError",
    "accuracy",
    "adam_update",
    "backward_prop",
    "cross_entropy",
    "forward_prop",
    "get_predictions",
    "gradient_descent",
    "init_adam",
    "init_momentum",
    "init_params",
    "load_mnist",
    "load_params",
    "momentum_update",
    "one_hot",
    "predict",
    "preprocess_image",
    "read_image",
    "relu",
    "relu_derivative",
    "save_params",
    "softmax",
    "train_fast",
    "train_minibatch",
    "update_params",
]
# ~/~ end