# ~/~ begin <<docs/engineering.md#mnist_math/__init__.py>>[init]
"""mnist-math: a neural network that reads handwritten digits, derived and tested.

Every function here is tangled from a chapter of the book; its docstring links back to
the equation it implements.
"""

from .activations import relu, relu_derivative, softmax
from .backward import backward_prop
from .data import load_mnist
from .fast import train_fast
from .forward import forward_prop, init_params
from .loss import cross_entropy, one_hot
from .train import accuracy, get_predictions, gradient_descent, predict, update_params

__all__ = [
    "accuracy",
    "backward_prop",
    "cross_entropy",
    "forward_prop",
    "get_predictions",
    "gradient_descent",
    "init_params",
    "load_mnist",
    "one_hot",
    "predict",
    "relu",
    "relu_derivative",
    "softmax",
    "train_fast",
    "update_params",
]
# ~/~ end