"""Run every python block of the book, in navigation order, in one fresh Python session.

This is what a reader does who pastes each block of the site into one Python session started
at the repository root, from the first chapter to the last. For each block it checks that
the block runs, and that what it prints is the output the page shows beneath it (up to the
normalisation of booktools/blocks.py: trailing spaces, round-off-sized numbers such as
``3.6e-15``, and the digits of a float64's full repr past the 12th). A block that prints must
show its output.

    python -m booktools.run_book                  # every page of the navigation
    python -m booktools.run_book docs/loss.md     # some pages only, each in a fresh namespace
    python -m booktools.run_book --update docs/loss.md   # rewrite the pages' shown outputs

``--update`` writes what each block printed into the ```text block beneath it (adding one
where a block prints and shows nothing): for an author who changed a block on purpose.
Review the diff before committing it; the check is only as good as that review.

Prints one line per block (``ok``, ``FAIL``) and the details of each failure, naming the page
and line; exits 1 if any block failed. ``tests/test_book_runs.py`` runs it in the test suite.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from booktools.blocks import ROOT, Block, nav_pages, normalise, runnable_blocks


@dataclass
class Failure:
    where: str
    problem: str
    block: Block | None = None
    printed: str | None = None


def run_blocks(blocks: list[Block]) -> tuple[list[Failure], int]:
    """Run ``blocks`` in order in one namespace; return the failures and the count run."""
    namespace: dict = {"__name__": "__main__"}
    failures: list[Failure] = []
    for block in blocks:
        printed = io.StringIO()
        # Pad with blank lines so that tracebacks give the line number in the Markdown file.
        source = "\n" * block.line + block.code
        try:
            code = compile(source, block.page, "exec")
            with contextlib.redirect_stdout(printed):
                exec(code, namespace)
        except BaseException:  # noqa: BLE001 - every failure of a reader's paste is reported
            trace = traceback.format_exc(limit=-3)
            failures.append(Failure(block.where, f"raised an exception:\n{trace}"))
            print(f"FAIL {block.where}", file=sys.__stdout__, flush=True)
            continue
        actual = normalise(printed.getvalue())
        if block.output is None:
            if actual:
                failures.append(
                    Failure(
                        block.where,
                        "prints but the page shows no ```text output beneath it; it prints:\n"
                        + printed.getvalue(),
                        block,
                        printed.getvalue(),
                    )
                )
        elif actual != normalise(block.output):
            failures.append(
                Failure(
                    block.where,
                    f"prints something else than the output shown at line "
                    f"{block.output_line}:\n--- shown\n{block.output}\n--- printed\n"
                    f"{printed.getvalue()}",
                    block,
                    printed.getvalue(),
                )
            )
        status = "FAIL" if failures and failures[-1].where == block.where else "ok  "
        print(f"{status} {block.where}", file=sys.__stdout__, flush=True)
    return failures, len(blocks)


def update_outputs(failures: list[Failure]) -> None:
    """Write what each block printed into its page, beneath it (``--update``)."""
    by_page: dict[str, list[Failure]] = {}
    for failure in failures:
        if failure.block is not None:
            by_page.setdefault(failure.block.page, []).append(failure)
    for page, page_failures in by_page.items():
        path = ROOT / page
        lines = path.read_text(encoding="utf-8").splitlines()
        # From the bottom up, so that earlier line numbers stay valid.
        for failure in sorted(page_failures, key=lambda f: f.block.line, reverse=True):
            block = failure.block
            body = [
                block.indent + line if line else ""
                for line in failure.printed.rstrip().splitlines()
            ]
            shown = [block.indent + "```text", *body, block.indent + "```"]
            if block.output_line is None:
                lines[block.end : block.end] = ["", *shown]
            else:
                lines[block.output_line - 1 : block.output_end] = shown
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"updated {len(page_failures)} shown outputs in {page}")


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    os.environ.setdefault("MPLBACKEND", "Agg")
    update = "--update" in argv
    argv = [arg for arg in argv if arg != "--update"]
    if argv:
        sessions = [[Path(page).resolve()] for page in argv]
    else:
        sessions = [nav_pages()]
    started = time.perf_counter()
    failures: list[Failure] = []
    count = 0
    for pages in sessions:
        blocks = [block for page in pages for block in runnable_blocks(page)]
        session_failures, session_count = run_blocks(blocks)
        failures += session_failures
        count += session_count
    seconds = time.perf_counter() - started
    if update:
        update_outputs(failures)
    for failure in failures:
        print(f"\n=== {failure.where}: {failure.problem}")
    print(f"\n{count - len(failures)} of {count} blocks ran as shown ({seconds:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
