"""Remake every generated figure, table and model of the book with one command.

Each job is one of the repository's scripts, run as its own process from the repository
root; the list below says what each writes and whether its numbers are times (a job that
times code needs a quiet machine: nothing else running, the same CPU as the tables it
replaces say). After the jobs, the prose's marked numbers are rewritten from the new data
(``booktools.numbers --update``): review ``git diff`` before committing.

    python -m booktools.publish --list            # the jobs, what they write, which are timed
    python -m booktools.publish                   # every job (tens of minutes)
    python -m booktools.publish figures models    # some of them
    python -m booktools.publish --untimed         # every job that measures no time

``make figures`` runs it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass

from booktools.blocks import ROOT


@dataclass(frozen=True)
class Job:
    name: str
    command: tuple[str, ...]  # run with this Python, from the repository root
    writes: str
    timed: bool  # its outputs include times: run it on a quiet machine


JOBS = (
    Job(
        "models",
        ("scripts/train_play_models.py",),
        "models/*.npz (the seed network and the draw-a-digit page's networks)",
        timed=False,
    ),
    Job(
        "figures",
        ("-m", "booktools.figures"),
        "docs/img/: sample digits, training curves, weights, graph, output error, twins",
        timed=False,
    ),
    Job(
        "example-digit",
        ("scripts/draw_example_digit.py",),
        "docs/img/handwritten-4.png",
        timed=False,
    ),
    Job(
        "further",
        ("scripts/further_figures.py", "all"),
        "docs/generated/ choose, ablation, batch, time-to-accuracy, threads (chapter 11, on "
        "the validation split; about an hour); their figures",
        timed=True,
    ),
    Job(
        "recipe",
        ("benchmarks/recipe.py", "--rounds", "3"),
        "docs/generated/recipe.md and .json: the recipe on the test set, 5 seeds, its time",
        timed=True,
    ),
    Job(
        "long-run",
        ("benchmarks/recipe.py", "--long"),
        "docs/generated/long-run.md and .json: Simard et al.'s setting, 5 seeds",
        timed=True,
    ),
    Job(
        "speed",
        ("benchmarks/speed.py",),
        "docs/generated/speed*.md and speed.json (chapter 9)",
        timed=True,
    ),
    Job(
        "backprop-cost",
        ("benchmarks/backprop_cost.py",),
        "docs/generated/backprop-cost.json (chapter 5: backward pass against finite differences)",
        timed=True,
    ),
    Job(
        "data-loading",
        ("benchmarks/data_loading.py",),
        "docs/generated/data-loading.md and .json (the MNIST appendix)",
        timed=True,
    ),
    Job(
        "precision",
        ("benchmarks/precision.py",),
        "docs/generated/precision.md, precision-drift.md and precision.json (chapter 9)",
        timed=True,
    ),
)


def main(argv: list[str] | None = None) -> int:
    names = [job.name for job in JOBS]
    parser = argparse.ArgumentParser(
        prog="python -m booktools.publish",
        description="Remake the book's generated figures, tables and models.",
    )
    parser.add_argument(
        "jobs",
        nargs="*",
        metavar="JOB",
        help=f"some of: {', '.join(names)} (default: all)",
    )
    parser.add_argument("--list", action="store_true", help="list the jobs and stop")
    parser.add_argument(
        "--untimed", action="store_true", help="only the jobs that time nothing"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.jobs if name not in names]
    if unknown:
        parser.error(
            f"no job called {', '.join(unknown)}: choose from {', '.join(names)}"
        )
    if args.list:
        for job in JOBS:
            quiet = "  [times: needs a quiet machine]" if job.timed else ""
            print(f"{job.name:<14} {job.writes}{quiet}")
        return 0
    chosen = [job for job in JOBS if (not args.jobs or job.name in args.jobs)]
    if args.untimed:
        chosen = [job for job in chosen if not job.timed]
    for job in chosen:
        note = " (timed: keep the machine quiet)" if job.timed else ""
        print(f"== {job.name}: {job.writes}{note}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, *job.command], cwd=ROOT)
        if result.returncode != 0:
            print(
                f"publish: {job.name} failed (exit {result.returncode})", file=sys.stderr
            )
            return result.returncode
        print(f"== {job.name}: done in {time.perf_counter() - started:.0f} s", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "booktools.numbers", "--update"], cwd=ROOT
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
