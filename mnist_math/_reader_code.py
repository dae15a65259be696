# ~/~ begin <<docs/reader-code.md#mnist_math/_reader_code.py>>[init]
"""Running code the reader wrote: call it safely, say where it raised, import its file.

Tangled from the book's "Appendix: Running the reader's code" (docs/reader-code.md); used by
mnist_math/practice.py (the page "Practice: write backpropagation yourself").
"""

import importlib.util
import linecache
import os
import re
import sys
import sysconfig
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

# ~/~ begin <<docs/reader-code.md#reader-call>>[init]
RAISED = object()


def call(fn: Callable, args: tuple, problem: str, errors: dict) -> object:
    """``fn(*args)`` on copies of ``args``, or ``RAISED``.

    Args:
        fn: The reader's function.
        args: Its arguments: arrays, dicts of arrays, numbers.
        problem: The name of the problem they come from, for the report.
        errors: Where an exception is noted: ``where_raised``'s triple, mapped to the
            problems on which it was raised.

    Returns:
        What ``fn`` returned, or ``RAISED``.
    """
    try:
        with np.errstate(all="ignore"):
            return fn(*[copy(arg) for arg in args])
    except Exception as error:
        errors.setdefault(where_raised(error, name_of(fn)), []).append(problem)
        return RAISED


def copy(value: object) -> object:
    """A copy of an array or of a dict of arrays; anything else as it is."""
    if isinstance(value, dict):
        return {key: copy(item) for key, item in value.items()}
    return value.copy() if isinstance(value, np.ndarray) else value


def name_of(fn: Callable) -> str:
    """The function's name, for the report."""
    return getattr(fn, "__name__", "the function")
# ~/~ end

# ~/~ begin <<docs/reader-code.md#reader-raised>>[init]
PATHS = sysconfig.get_paths()
LIBRARY = tuple(
    os.path.abspath(folder) + os.sep
    for folder in (PATHS["stdlib"], PATHS["purelib"], PATHS["platlib"])
) + (os.path.dirname(os.path.abspath(__file__)) + os.sep,)


def shapes_in(line: str, names: dict) -> list[str]:
    """``name (shape)`` for every array ``line`` names, ``params["W2"]`` included."""
    found = []
    for match in re.finditer(r"([A-Za-z_]\w*)(?:\[[\"'](\w+)[\"']\])?", line):
        name, key = match.groups()
        value = names.get(name)
        if key is not None and isinstance(value, Mapping):
            name, value = f'{name}["{key}"]', value.get(key)
        if isinstance(value, np.ndarray) and f"{name} {value.shape}" not in found:
            found.append(f"{name} {value.shape}")
    return found


def where_raised(error: Exception, who: str) -> tuple[str, str, str]:
    """What was raised, where in the reader's code, and that line with its shapes."""
    frames = list(traceback.walk_tb(error.__traceback__))[1:]  # [0] is call()'s frame
    theirs = [
        (frame, number)
        for frame, number in frames
        if not os.path.abspath(frame.f_code.co_filename).startswith(LIBRARY)
    ]
    what = f"{who} raised {type(error).__name__}"
    message = f"    {type(error).__name__}: {' '.join(str(error).split())}"
    if not frames:
        return what, "", message
    frame, number = (theirs or frames)[-1]
    code = frame.f_code
    line = linecache.getline(code.co_filename, number).strip()
    if code.co_filename.endswith(".py") and os.path.isfile(code.co_filename):
        shown = os.path.relpath(code.co_filename)
        shown = code.co_filename if shown.startswith("..") else shown
        where = f", at line {number} of {shown}"
    else:
        where = f", at line {number - code.co_firstlineno + 1} of {code.co_name}"
    shapes = shapes_in(line, {**frame.f_globals, **frame.f_locals})
    body = [f"    {line}"] if line else []
    if shapes:
        body.append(f"    where {', '.join(shapes)}")
    return what, where, "\n".join(body + [message])


def render_errors(errors: dict) -> list[str]:
    """Each noted exception as the report shows it, once for all its problems."""
    rendered = []
    for (what, where, body), problems in errors.items():
        which = " and ".join(problems) + (
            " problems" if len(problems) > 1 else " problem"
        )
        rendered.append(f"{what} on the {which}{where}:\n{body}")
    return rendered
# ~/~ end

# ~/~ begin <<docs/reader-code.md#reader-file>>[init]
class PracticeFileError(Exception):
    """The reader's file cannot be checked: missing, not importable, or without the
    function."""


def load_function(path: Path, name: str) -> Callable:
    """Import the Python file ``path`` and return its function ``name``.

    Raises:
        PracticeFileError: the file does not exist, does not import, or has no ``name``.
    """
    if not path.is_file():
        raise PracticeFileError(f"{path} does not exist or is not a file")
    spec = importlib.util.spec_from_file_location(f"practice_{path.stem}", path)
    if spec is None or path.suffix != ".py":
        raise PracticeFileError(f"{path} is not a Python file (.py)")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent.resolve())
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise PracticeFileError(
            f"{path} does not import: SyntaxError at line {error.lineno}: {error.msg}"
        ) from None
    except (Exception, SystemExit) as error:
        frames = traceback.walk_tb(error.__traceback__)
        numbers = [n for frame, n in frames if frame.f_code.co_filename == spec.origin]
        at = f" at line {numbers[-1]}" if numbers else ""
        message = " ".join(str(error).split())
        raise PracticeFileError(
            f"{path} does not import: {type(error).__name__}{at}: {message}"
        ) from None
    finally:
        sys.path.remove(folder)
    function = getattr(module, name, None)
    if not callable(function):
        raise PracticeFileError(f"{path} defines no function {name}")
    return function
# ~/~ end
# ~/~ end