"""Run the Python examples of the book's chapters as tests, with Sybil.

Every ```python block of docs/*.md is a test; the blocks of one page run in order and
share one namespace. Entangled's ``{.python file=...}`` and ``{.python #name}`` blocks are
the package's source, not examples: Sybil ignores them. In a page,
``<!-- skip: next "reason" -->`` skips the next block and
``<!-- invisible-code-block: python ... -->`` runs setup code the reader does not see.
"""

import os

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

# Examples that draw figures must not try to open a window.
os.environ.setdefault("MPLBACKEND", "Agg")

pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["*.md"],
).pytest()
