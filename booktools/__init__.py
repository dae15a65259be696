"""The book's tooling: what builds, checks and publishes the book, not what a reader imports.

- ``blocks``: which code blocks of the chapters are runnable, and what they print;
- ``run_book``: paste every runnable block, in navigation order, and compare the outputs
  (``python -m booktools.run_book``);
- ``notebooks``: every chapter as a Jupyter notebook;
- ``registry``: which test checks each labelled equation;
- ``format_chapters``: ruff over the chapters' code blocks.

The MkDocs hooks in ``docs/hooks/`` and the tests import these modules; the package
``mnist_math`` never does, and the wheel does not contain them.
"""
