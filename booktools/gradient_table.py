"""Chapter 5's table of every gradient: written in the chapter, checked against the registry.

The chapter "5. Backward propagation" writes the table in its Markdown, between the lines
``<!-- gradient-table -->`` and ``<!-- /gradient-table -->``, so that a reader of the
Markdown and of the chapter's notebook sees it as the site does. The build hook
(docs/hooks/book.py) computes the same table from the registry of checks
(booktools/registry.py) and the chapter's labelled equations, and warns, which fails the
strict build, when the chapter's copy differs; tests/test_teaching.py fails in the same case.

    python -m booktools.gradient_table            # check; exit 1 on a difference
    python -m booktools.gradient_table --update   # rewrite the chapter's table
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from booktools.blocks import DOCS, ROOT

START = "<!-- gradient-table -->"
END = "<!-- /gradient-table -->"
PAGE = "backward.md"


def written_table(markdown: str) -> str | None:
    """The text between the two marker lines (stripped), or None without a complete pair.

    Raises:
        ValueError: a marker is present but not as a line of its own, or the pair is
            incomplete or repeated.
    """
    lines = [line.strip() for line in markdown.splitlines()]
    starts = [i for i, line in enumerate(lines) if line == START]
    ends = [i for i, line in enumerate(lines) if line == END]
    if not starts and not ends:
        if START in markdown or END in markdown:
            raise ValueError(f"{START} and {END} must each be a line of their own")
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"expected one {START} line followed by one {END} line")
    body = markdown.splitlines()[starts[0] + 1 : ends[0]]
    return "\n".join(body).strip()


def replaced(markdown: str, table: str) -> str:
    """``markdown`` with the text between the markers replaced by ``table``."""
    lines = markdown.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == START)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    return "\n".join(lines[: start + 1] + [table] + lines[end:])


def load_hook():
    """The build hook, imported from its file (MkDocs loads it the same way)."""
    spec = importlib.util.spec_from_file_location("book_hook", DOCS / "hooks" / "book.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["book_hook"] = module
    spec.loader.exec_module(module)
    return module


def expected_table(page: str = PAGE) -> str:
    """The table as the hook computes it from the registry and the chapters."""
    import yaml

    class Loader(yaml.SafeLoader):  # mkdocs.yml may hold !!python/name tags
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    hook = load_hook()
    hook.on_files(None, {"nav": config["nav"], "docs_dir": str(DOCS)})
    return hook._gradient_table(page).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m booktools.gradient_table",
        description="Check (or rewrite) chapter 5's table of every gradient.",
    )
    parser.add_argument("--update", action="store_true", help="rewrite the table")
    args = parser.parse_args(argv)
    path = DOCS / PAGE
    text = path.read_text(encoding="utf-8")
    expected = expected_table()
    if written_table(text) == expected:
        return 0
    if args.update:
        path.write_text(replaced(text, expected), encoding="utf-8")
        print(f"updated the table of every gradient in {path.relative_to(ROOT)}")
        return 0
    print(
        f"docs/{PAGE}: the table of every gradient differs from the registry's: "
        "run python -m booktools.gradient_table --update",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
