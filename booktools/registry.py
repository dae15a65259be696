"""The registry of checks: which test verifies each labelled equation of the book.

This module is the single source of truth, imported three ways:

- the build hook (docs/hooks/book.py) reads ``EQUATION_CHECKS``, ``BACKWARD_QUANTITIES`` and
  ``GRADIENT_SHAPES`` and writes the table of chapter 13, the table of every gradient in chapter 5 and the line "checked
  against autograd" under every labelled equation;
- tests/test_formulas.py parametrises its grouped tests from it, so an equation added
  here is tested without being typed a second time;
- tests/test_traceability.py fails when a chapter labels an equation that has no entry
  here, when an entry names an equation that no chapter labels, or when an entry names a
  test function that does not exist in the named file.

Keys are the ``\\label{eq-...}`` names of the chapters; values are
``("file.py::test_function", "one line saying what is compared with what")``, the file
relative to tests/.
"""

EQUATION_CHECKS = {
    # Chapter 2, forward propagation: mnist_math.forward.forward_prop against a torch
    # forward pass written in torch's own row layout (F.linear computes x @ W.T + b).
    "eq-z1": (
        "test_formulas.py::test_forward_matches_torch",
        "`Z1` vs `F.linear(X.T, W1, b1).T`",
    ),
    "eq-a1": (
        "test_formulas.py::test_forward_matches_torch",
        "`A1` vs `torch.relu(Z1)`",
    ),
    "eq-z2": (
        "test_formulas.py::test_forward_matches_torch",
        "`Z2` vs `F.linear(A1.T, W2, b2).T`",
    ),
    "eq-a2": (
        "test_formulas.py::test_forward_matches_torch",
        "`A2` vs `torch.softmax(Z2, dim=0)`",
    ),
    # Chapter 3, activations.
    "eq-relu": (
        "test_formulas.py::test_relu_matches_torch",
        "`relu` vs `torch.relu`, at ±0, tiny and huge inputs",
    ),
    "eq-relu-derivative": (
        "test_formulas.py::test_relu_derivative_matches_autograd",
        "`relu_derivative` vs autograd of `torch.relu`; 0 at exact zeros",
    ),
    "eq-softmax": (
        "test_formulas.py::test_softmax_matches_torch",
        "`softmax` vs `torch.softmax(Z, dim=0)`; logits of ±1e4 stay finite, columns sum to 1",
    ),
    # Chapter 4, the loss.
    "eq-one-hot": (
        "test_formulas.py::test_one_hot_matches_torch",
        "`one_hot(Y, k)` vs `F.one_hot(Y, k).T`",
    ),
    "eq-cross-entropy": (
        "test_formulas.py::test_cross_entropy_matches_torch",
        "`cross_entropy(softmax(Z2), Y)` vs `F.cross_entropy(Z2.T, Y)` (mean); finite at logits of 1e4",
    ),
    # Chapter 5, backward propagation: mnist_math.backward.backward_prop against autograd.
    # dZ2, dA1 and dZ1 are gradients of the summed loss: m × the .grad of torch's mean loss.
    "eq-dz2": (
        "test_formulas.py::test_backward_matches_autograd",
        "`dZ2` vs m × `Z2.grad` (`retain_grad`)",
    ),
    "eq-dw2": (
        "test_formulas.py::test_backward_matches_autograd",
        "`dW2` vs `W2.grad`",
    ),
    "eq-db2": (
        "test_formulas.py::test_backward_matches_autograd",
        "`db2` vs `b2.grad`, shape (k, 1)",
    ),
    "eq-da1": (
        "test_formulas.py::test_backward_matches_autograd",
        "`dA1` vs m × `A1.grad` (`retain_grad`)",
    ),
    "eq-dz1": (
        "test_formulas.py::test_backward_matches_autograd",
        "`dZ1` vs m × `Z1.grad` (`retain_grad`)",
    ),
    "eq-dw1": (
        "test_formulas.py::test_backward_matches_autograd",
        "`dW1` vs `W1.grad`",
    ),
    "eq-db1": (
        "test_formulas.py::test_backward_matches_autograd",
        "`db1` vs `b1.grad`, shape (h, 1)",
    ),
    # Chapter 7, gradient descent.
    "eq-update": (
        "test_formulas.py::test_update_matches_torch_sgd",
        "`update_params` vs `torch.optim.SGD(lr).step()` on the same gradients",
    ),
    # Making it fast: the full-batch gradient as a sum over chunks of examples.
    "eq-chunk-sum": (
        "test_fast.py::test_chunked_sums_match_autograd",
        "`chunk_sums` over chunks of 1, 5, 7, 13, 64, 100 examples, / m, vs autograd's "
        "`W.grad`, `b.grad` and mean loss",
    ),
    # Chapter 13, verification.
    "eq-central-difference": (
        "test_gradcheck.py::test_numerical_gradient_of_known_function",
        "`numerical_gradient` vs exact derivatives of sin, x³, a quadratic form",
    ),
    # Reading your own handwriting: the preprocessing of mnist_math.handwriting.
    "eq-ink": (
        "test_handwriting.py::test_ink_image_is_invariant_to_brightness_contrast_and_polarity",
        "`ink_image`: background to 0, peak to 1, same result for a·x + b and 1 − x, noise to 0",
    ),
    "eq-area-average": (
        "test_handwriting.py::test_area_weights_average_the_covered_area",
        "`area_weights` vs the mean over a supersampled grid (np.kron), and Pillow's BOX resize",
    ),
    "eq-centre-of-mass": (
        "test_handwriting.py::test_centre_of_mass_and_placement",
        "`centre_of_mass` vs np.average over np.indices; placement nearest (14, 14)",
    ),
    # Going further: mini-batches, He initialisation, momentum, Adam, the schedule.
    "eq-minibatch-gradient": (
        "test_formulas.py::test_minibatch_gradient_is_unbiased",
        "mean of one epoch's batch gradients (`minibatch_order`) vs the full-batch gradient",
    ),
    "eq-he-variance": (
        "test_formulas.py::test_he_variance_matches_a_large_sample",
        "sample variance of `init_params(scheme='he')` vs 2/fan-in, and a He layer keeps E[Z²]",
    ),
    "eq-momentum": (
        "test_formulas.py::test_momentum_matches_torch_sgd",
        "`momentum_update` vs `torch.optim.SGD(momentum=μ)`: weights and `momentum_buffer`, 6 steps",
    ),
    "eq-adam-moments": (
        "test_formulas.py::test_adam_matches_torch",
        "`v`, `s` of `adam_update` vs `exp_avg`, `exp_avg_sq` of `torch.optim.Adam`, 6 steps",
    ),
    "eq-adam-bias-correction": (
        "test_formulas.py::test_adam_matches_torch",
        "`adam_update` vs `torch.optim.Adam` from the first step, where the correction is 10×",
    ),
    "eq-adam-update": (
        "test_formulas.py::test_adam_matches_torch",
        "`adam_update` vs `torch.optim.Adam(lr, betas, eps).step()`: the weights, 6 steps",
    ),
    "eq-cosine-schedule": (
        "test_formulas.py::test_warmup_schedule_matches_torch",
        "`scheduled_lr` vs torch's `SequentialLR(LinearLR, CosineAnnealingLR)`; without "
        "warm-up, `cosine_lr` vs `CosineAnnealingLR(T_max=T)` (the test before it)",
    ),
}

# What the grouped tests of test_formulas.py compare for each equation: the NumPy name of
# the quantity and, for a gradient, the loss it is the gradient of. The seed's convention
# (chapter 5): dZ2, dA1 and dZ1 differentiate the summed loss m·L, so they are compared with m
# times the gradient of torch's mean loss; dW and db differentiate the mean loss L itself.
FORWARD_QUANTITIES = {
    "eq-z1": "Z1",
    "eq-a1": "A1",
    "eq-z2": "Z2",
    "eq-a2": "A2",
}

BACKWARD_QUANTITIES = {
    "eq-dz2": ("dZ2", "summed"),
    "eq-dw2": ("dW2", "mean"),
    "eq-db2": ("db2", "mean"),
    "eq-da1": ("dA1", "summed"),
    "eq-dz1": ("dZ1", "summed"),
    "eq-dw1": ("dW1", "mean"),
    "eq-db1": ("db1", "mean"),
}


# The shape of each gradient, for the table of every gradient in chapter 5 (written by the
# build hook). n inputs,
# h hidden units, k classes, m examples; tests/test_teaching.py checks each shape against
# what ``backward_prop`` returns.
GRADIENT_SHAPES = {
    "eq-dz2": "(k, m)",
    "eq-dw2": "(k, h)",
    "eq-db2": "(k, 1)",
    "eq-da1": "(h, m)",
    "eq-dz1": "(h, m)",
    "eq-dw1": "(h, n)",
    "eq-db1": "(h, 1)",
}


def checked_by(test: str) -> list[str]:
    """The equations whose registry entry names ``test`` (``"file.py::function"``), in order."""
    return [name for name, (check, _how) in EQUATION_CHECKS.items() if check == test]
