"""The results tables of the docs, printed as markdown from the raw results committed in docs/results/ (one JSON
line per run, written by benchmarks/score_runs.py). Each table sits in its page between the markers
``<!-- table: NAME -->`` and ``<!-- /table: NAME -->``; a test regenerates every table and compares. A table that
holds no measured figure (commands, options, keys) is marked ``<!-- text table -->`` on the line above it; a test
finds every other table in README.md and docs/ and fails, so no figure enters the docs without its raw results. Usage:

    python benchmarks/tables.py mnist-ablation           # print one table
    python benchmarks/tables.py --write                  # rewrite every table in place in the docs
    python benchmarks/tables.py --check                  # exit 1 if a page's table differs from its raw results
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"

Row = dict[str, Any]


def read_rows(*names: str) -> list[Row]:
    """The JSON lines of docs/results/NAME.jsonl, for each name in turn."""
    rows = []
    for name in names:
        lines = (RESULTS / f"{name}.jsonl").read_text().splitlines()
        rows += [json.loads(line) for line in lines if line.strip()]
    return rows


def figure(row: Row, path: str) -> float | None:
    """A row's figure at a dotted path (``test.accuracy.c1``), or None when it has none."""
    node: Any = row
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def figures(rows: Sequence[Row], path: str) -> list[float]:
    """The figure at `path` of each row that has one."""
    return [v for v in (figure(r, path) for r in rows) if v is not None]


def stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "median": statistics.median(values),
    }


def fmt(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


@dataclass(frozen=True)
class Column:
    """A table column: its heading, the dotted path of its figure in a row, and decimals."""

    heading: str
    path: str
    decimals: int = 4


def markdown(headings: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def spread(rows: Sequence[Row], column: Column) -> str:
    """'mean (std), min' of a column over rows (a single row's figure alone), '-' when no row has it."""
    values = figures(rows, column.path)
    if not values:
        return "-"
    s = stats(values)
    d = column.decimals
    if len(values) == 1:  # one seed: its figure, with no spread to show
        return f"{s['mean']:.{d}f}"
    return f"{s['mean']:.{d}f} ({s['std']:.{d}f}), min {s['min']:.{d}f}"


def stat_lines(
    rows: Sequence[Row], columns: Sequence[Column], names: Sequence[str], blanks: int = 0
) -> list[list[str]]:
    """One line per statistic (`stats`' names) of each column over rows, after `blanks` empty cells."""
    lines = []
    for name in names:
        line = [name, *[""] * blanks]
        for c in columns:
            values = figures(rows, c.path)
            line.append(fmt(stats(values)[name], c.decimals) if values else "-")
        lines.append(line)
    return lines


# --- the MNIST protocol (docs/mnist.md) -----------------------------------------------------------------------
ARMS = {
    "mnist": "`mnist` (the paper + the consistency term)",
    "consistency-only": "the consistency term alone (no information term for c1)",
    "mnist-paper": "`mnist-paper` (the paper's objective)",
    "mnist-official": "`mnist-official` (the official code's settings)",
}
VAL_ACCURACY = Column("Q accuracy, val", "val.accuracy.c1")
TEST_ACCURACY = Column("Q accuracy, test", "test.accuracy.c1")
FIDELITY = Column("generation fidelity", "test.fidelity.c1")
LOWER_BOUNDS = [Column(f"L_I {c}", f"val.mi_lower_bound.{c}", 3) for c in ("c1", "c2", "c3")]
SAMPLES = [Column("FID", "samples.fid", 2), Column("recall", "samples.recall", 3)]
ABLATION = [
    VAL_ACCURACY,
    TEST_ACCURACY,
    Column("Q accuracy, all 70,000", "all.accuracy.c1"),
    FIDELITY,
    *LOWER_BOUNDS,
    *SAMPLES,
    Column("slant abs(rho)", "samples.slant.rho", 3),
    Column("width abs(rho)", "samples.width.rho", 3),
]
ABLATION_SEEDS = (100, 101, 102)


def ablation_rows() -> list[Row]:
    rows = [r for r in fresh_rows() if r["seed"] in ABLATION_SEEDS]
    return rows + read_rows("mnist-ablation")


def mnist_ablation() -> str:
    """Per arm, mean (std) and min over seeds 100-102 of each figure."""
    rows = ablation_rows()
    cells = []
    for arm, label in ARMS.items():
        members = [r for r in rows if r["arm"] == arm]
        if members:
            seeds = ", ".join(str(r["seed"]) for r in members)
            cells.append([label, seeds, *(spread(members, c) for c in ABLATION)])
    return markdown(["arm", "seeds", *(c.heading for c in ABLATION)], cells)


def mnist_ablation_runs() -> str:
    """Every run of the ablation, one row each."""
    rows = ablation_rows()
    columns = [*ABLATION, Column("training minutes", "train_minutes", 1)]
    order = list(ARMS)
    rows.sort(key=lambda r: (order.index(r["arm"]), r["seed"]))
    cells = [[r["arm"], str(r["seed"]), *(fmt(figure(r, c.path), c.decimals) for c in columns)] for r in rows]
    return markdown(["arm", "seed", *(c.heading for c in columns)], cells)


FRESH = [TEST_ACCURACY, FIDELITY, *LOWER_BOUNDS, *SAMPLES, VAL_ACCURACY, Column("agreement", "agreement", 3)]


def fresh_rows() -> list[Row]:
    """The fresh seeds' rows, each with its label-free agreement with the others where it was measured."""
    agreement = {r["run"]: r for r in read_rows("mnist-fresh-seeds-agreement")}
    rows = [{**r, **agreement.get(r["run"], {})} for r in read_rows("mnist-fresh-seeds")]
    return sorted(rows, key=lambda r: r["seed"])


def mnist_fresh_seeds() -> str:
    """Seeds 100-104 of the default `infogan train`, then mean, std, min and median of each figure."""
    rows = fresh_rows()
    cells = [
        [
            str(r["seed"]) + (" (pick)" if r.get("picked") else ""),
            *(fmt(figure(r, c.path), c.decimals) for c in FRESH),
        ]
        for r in rows
    ]
    cells += stat_lines(rows, FRESH, ("mean", "std", "min", "median"))
    table = markdown(["seed", *(c.heading for c in FRESH)], cells)
    among = [str(r["seed"]) for r in rows if "agreement" in r]
    if not among:
        return table
    return (
        f"{table}\n\nAgreement: each run's mean adjusted mutual information with the other seeds' categories of "
        f"10,000 real training images, among seeds {', '.join(among)}; (pick) marks `infogan sweep`'s label-free "
        "choice among them."
    )


def readme_headline() -> str:
    """The README's headline: each arm's test accuracy and generation fidelity (mean and min over its seeds) beside
    what the paper reports."""
    fresh = fresh_rows()
    ablation = read_rows("mnist-ablation")
    columns = [
        Column("Q accuracy, test", "test.accuracy.c1", 3),
        Column("generation fidelity", "test.fidelity.c1", 3),
        Column("FID", "samples.fid", 1),
    ]
    cells = []
    for arm, label in ARMS.items():
        members = fresh if arm == "mnist" else [r for r in ablation if r["arm"] == arm]
        if members:
            seeds = ", ".join(str(r["seed"]) for r in members)
            cells.append([label, seeds, *(spread(members, c) for c in columns)])
    cells.append(["the paper (Chen et al. 2016), as reported", "-", "0.95 (5% error)", "-", "-"])
    table = markdown(["setup", "seeds", *(c.heading for c in columns)], cells)
    accuracy = figures(fresh, "test.accuracy.c1")
    if not accuracy:
        return table
    seeds = ", ".join(str(r["seed"]) for r in fresh)
    sentence = (
        f"With the consistency term added to the paper's objective, Q classifies {stats(accuracy)['mean']:.3f} of "
        f"the test digits on average over fresh seeds {seeds} (lowest {min(accuracy):.3f}); the paper reports 95% "
        "for its objective alone."
    )
    return f"{sentence}\n\n{table}"


BUDGET_STEPS = (1000, 1500, 2000, 2500, 3000, 4000, 5000)
SETTLED = (
    0.95  # the label-free stopping rule: c1's categories agree this much (AMI) with the checkpoint before
)


def settled_at(stability: Sequence[Sequence[float]]) -> int | None:
    """The first checkpoint whose categories of real images agree with the previous checkpoint's by SETTLED."""
    return next((int(step) for step, ami in stability if ami >= SETTLED), None)


def mnist_budget() -> str:
    """Per run: c1's validation accuracy at checkpoints along training, and where the label-free rule (categories
    settled between checkpoints) would stop it, with the validation accuracy there."""
    stability = {r["run"]: r["stability"] for r in read_rows("mnist-stability")}
    rows = [r for r in [*fresh_rows(), *read_rows("mnist-ablation")] if r.get("curve_val")]
    cells = []
    for r in rows:
        curve = {int(step): accuracy for step, accuracy, _ in r["curve_val"]}
        stop = settled_at(stability.get(r["run"], []))
        at_stop = fmt(curve.get(stop), 4) if stop is not None else "-"
        cells.append(
            [
                r["arm"],
                str(r["seed"]),
                *(fmt(curve.get(step), 4) for step in BUDGET_STEPS),
                f"{stop:,}" if stop is not None else "never",
                at_stop,
            ]
        )
    headings = ["arm", "seed", *(f"{s:,}" for s in BUDGET_STEPS), "settled at", "accuracy there"]
    return f"{markdown(headings, cells)}\n\n{least_budget([r for r in rows if r['arm'] == 'mnist'])}"


HOLDS = 0.005  # a shorter budget "holds" a run's accuracy if it loses at most this much of it


def least_budget(rows: Sequence[Row]) -> str:
    """The fewest updates, among the checkpoints every run saved, at which each run's validation accuracy is within
    HOLDS of its own at the end of training; as a sentence."""
    curves = [{int(step): accuracy for step, accuracy, _ in r["curve_val"]} for r in rows]
    if not curves:
        return ""
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    holds = [s for s in steps if all(c[s] >= c[max(c)] - HOLDS for c in curves)]
    seeds = ", ".join(str(r["seed"]) for r in rows)
    if not holds:
        return f"No shorter budget holds the `mnist` seeds' validation accuracy (seeds {seeds})."
    return (
        f"The fewest updates at which every `mnist` seed scored so far ({seeds}) loses at most {HOLDS} of its "
        f"validation accuracy at {max(steps):,} updates: {holds[0]:,}."
    )


SHARE = 0.1  # a digit "is in" a category that holds at least this share of its test digits


def shared_categories(row: Row) -> str:
    """The categories of c1 that hold a share of two digits or more on the test digits: '7 (127) + 9 (980)'."""
    confusion = row["test"]["confusion"]["c1"]  # rows: digits, columns: categories
    groups = []
    for k in range(len(confusion[0])):
        members = [(d, counts[k]) for d, counts in enumerate(confusion) if counts[k] >= SHARE * sum(counts)]
        if len(members) > 1:
            groups.append(" + ".join(f"{d} ({n})" for d, n in members))
    return "; ".join(groups) or "none"


def split_digits(row: Row) -> str:
    """The digits that c1 spreads over two categories or more on the test digits: '1 (501 + 621)'."""
    confusion = row["test"]["confusion"]["c1"]
    spread_out = []
    for d, counts in enumerate(confusion):
        parts = [n for n in counts if n >= SHARE * sum(counts)]
        if len(parts) > 1:
            spread_out.append(f"{d} ({' + '.join(str(n) for n in parts)})")
    return "; ".join(spread_out) or "none"


def agreement_rank(row: Row, rows: Sequence[Row]) -> str:
    ranked = sorted((r for r in rows if "agreement" in r), key=lambda r: -r["agreement"])
    if row not in ranked:
        return "-"
    return f"{ranked.index(row) + 1} of {len(ranked)}"


def mnist_failures() -> str:
    """Every run below 0.98 on the test digits: the digits that share one of c1's categories (each digit listed
    with its count of test digits in that category), the digits c1 spreads over several categories and, for the
    fresh seeds, the rank `infogan sweep`'s label-free pick gives it."""
    fresh = fresh_rows()
    cells = []
    for r in [*fresh, *read_rows("mnist-ablation")]:
        accuracy = figure(r, "test.accuracy.c1")
        if accuracy is not None and accuracy < 0.98:
            rank = agreement_rank(r, fresh) if r in fresh else "-"
            row = [r["arm"], str(r["seed"]), fmt(accuracy, 4), shared_categories(r), split_digits(r), rank]
            cells.append(row)
    headings = [
        "arm",
        "seed",
        "Q accuracy, test",
        "digits sharing a category (test digits in it)",
        "digits spread over categories",
        "sweep rank",
    ]
    return markdown(headings, cells)


# --- the conditional GAN (docs/family.md) ------------------------------------------------------------------------
CGAN = [
    Column("conditional accuracy", "samples.conditional_accuracy", 3),
    Column("recall", "samples.recall", 3),
    Column("precision", "samples.precision", 3),
    Column("FID", "samples.fid", 2),
    Column("training minutes", "train_minutes", 1),
]


def cgan() -> str:
    """The `cgan` preset as a user runs it, one row per seed, then mean, std and min of each figure."""
    rows = sorted(read_rows("cgan"), key=lambda r: r["seed"])
    cells = [
        [str(r["seed"]), f"{r['step']:,}", *(fmt(figure(r, c.path), c.decimals) for c in CGAN)] for r in rows
    ]
    cells += stat_lines(rows, CGAN, ("mean", "std", "min"), blanks=1)
    return markdown(["seed", "updates", *(c.heading for c in CGAN)], cells)


# --- dSprites (docs/disentanglement.md; benchmarks/disentanglement_table.py --table NAME) ------------------------
DISENTANGLEMENT = [
    Column("FactorVAE", "factorvae", 3),
    Column("DCI disentanglement", "dci_disentanglement", 3),
    Column("SAP", "sap", 3),
    Column("SAP (correlation)", "sap_correlation", 3),
    Column("MIG", "mig", 3),
]


def disentanglement(name: str) -> Callable[[], str]:
    """The table of docs/results/NAME.jsonl, as benchmarks/disentanglement_table.py --table NAME writes it: per
    preset, mean (std) and min over its seeds of each score, the run ModelCentrality picks without factors, and
    the data and FactorVAE protocol the runs were scored on."""

    def render() -> str:
        lines = read_rows(name)
        runs = [r for r in lines if "run" in r]  # one line per run; a preset's summary line carries "pick"
        picks = {r["preset"]: r["pick"] for r in lines if "pick" in r}
        cells = []
        for preset in dict.fromkeys(r["preset"] for r in runs):
            members = sorted((r for r in runs if r["preset"] == preset), key=lambda r: r["seed"])
            pick = picks.get(preset)
            cells.append(
                [
                    f"`{preset}`",
                    ", ".join(str(r["seed"]) for r in members),
                    ", ".join(f"{s:,}" for s in sorted({r["step"] for r in members})),
                    *(spread(members, c) for c in DISENTANGLEMENT),
                    f"seed {pick['seed']}" if pick else "-",
                ]
            )
        headings = [
            "preset",
            "seeds",
            "updates",
            *(c.heading for c in DISENTANGLEMENT),
            "ModelCentrality pick",
        ]
        data = sorted({r["data"] for r in runs})
        votes = sorted({tuple(r["factorvae_votes"]) for r in runs if r.get("factorvae_votes")})
        errors = figures(runs, "factorvae_se")
        notes = [f"Scored on {' and '.join(data)}"]
        if votes:
            counts = " or ".join(f"{train:,} training and {held:,} evaluation votes" for train, held in votes)
            notes.append(f"FactorVAE on {counts}")
        if errors:
            notes.append(f"its binomial standard error {stats(errors)['mean']:.3f} on average")
        cpus = sorted({r["cpu"] for r in runs})
        notes.append(f"trained on {', '.join(cpus)}")
        return f"{markdown(headings, cells)}\n\n{'; '.join(notes)}."

    return render


# --- where a training step goes (benchmarks/step_profile.py) ----------------------------------------------------
STEP_PARTS = (
    "G forward",
    "D trunk, real",
    "D trunk, fakes",
    "D trunk, deformed copy",
    "D trunk, G's step",
    "deformation",
    "backward, D/Q",
    "backward, G",
    "optimiser, D/Q",
    "optimiser, G",
    "other (heads, losses, latents)",
)


def step_profile() -> str:
    """One row per profiled preset and machine: ms per step, images/s and each part's share of the step (%)."""
    rows = read_rows("step-profile")
    headings = ["preset", "precision", "CPU, threads", "ms/step", "images/s", *STEP_PARTS]
    cells = [
        [
            f"`{r['preset']}`",
            r["precision"],
            f"{r['cpu']}, {r['threads']}",
            f"{r['ms_per_step']:.0f}",
            f"{r['images_per_s']:.0f}",
            *(fmt(100 * r["share"][p], 1) if p in r["share"] else "-" for p in STEP_PARTS),
        ]
        for r in rows
    ]
    return markdown(headings, cells)


@dataclass(frozen=True)
class Table:
    """A table of a page, and the raw results it is printed from."""

    page: str
    sources: tuple[str, ...]
    render: Callable[[], str]


TABLES: dict[str, Table] = {
    "step-profile": Table("benchmarks/README.md", ("step-profile",), step_profile),
    "cgan": Table("docs/family.md", ("cgan",), cgan),
    "mnist-budget": Table(
        "docs/mnist.md", ("mnist-fresh-seeds", "mnist-ablation", "mnist-stability"), mnist_budget
    ),
    "readme-headline": Table("README.md", ("mnist-fresh-seeds", "mnist-ablation"), readme_headline),
    "mnist-fresh-seeds": Table(
        "docs/mnist.md", ("mnist-fresh-seeds", "mnist-fresh-seeds-agreement"), mnist_fresh_seeds
    ),
    "mnist-failures": Table(
        "docs/mnist.md",
        ("mnist-fresh-seeds", "mnist-fresh-seeds-agreement", "mnist-ablation"),
        mnist_failures,
    ),
    "mnist-ablation": Table("docs/mnist.md", ("mnist-fresh-seeds", "mnist-ablation"), mnist_ablation),
    "mnist-ablation-runs": Table(
        "docs/mnist.md", ("mnist-fresh-seeds", "mnist-ablation"), mnist_ablation_runs
    ),
    "dsprites-2500": Table("docs/disentanglement.md", ("dsprites-2500",), disentanglement("dsprites-2500")),
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- table: {name} -->", f"<!-- /table: {name} -->"


def in_page(name: str) -> str | None:
    """The table as its page holds it, between its markers, or None if the page has no such block."""
    text = (ROOT / TABLES[name].page).read_text()
    start, end = markers(name)
    if start not in text or end not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


PAGES = ("README.md", "docs/*.md", "benchmarks/README.md")
TEXT_TABLE = "<!-- text table -->"


def loose_tables(page: Path) -> list[int]:
    """Line numbers (from 1) where a table starts that is neither generated nor marked as holding no figures."""
    lines = page.read_text().splitlines()
    loose, generated = [], False
    for i, line in enumerate(lines):
        if line.startswith("<!-- table: "):
            generated = True
        elif line.startswith("<!-- /table: "):
            generated = False
        starts = line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))
        if starts and not generated and (i == 0 or lines[i - 1].strip() != TEXT_TABLE):
            loose.append(i + 1)
    return loose


def pages() -> list[Path]:
    return sorted(path for pattern in PAGES for path in ROOT.glob(pattern))


def write(name: str) -> None:
    page = ROOT / TABLES[name].page
    text = page.read_text()
    start, end = markers(name)
    if start not in text:
        raise SystemExit(f"{page} has no {start} marker")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    page.write_text(f"{head}{start}\n{TABLES[name].render()}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"tables to print: {', '.join(TABLES)} [default: all]")
    parser.add_argument("--write", action="store_true", help="rewrite the tables in their pages")
    parser.add_argument("--check", action="store_true", help="exit 1 if a page differs from its raw results")
    args = parser.parse_args()
    names = args.names or list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        parser.error(f"unknown table {', '.join(unknown)} (known: {', '.join(TABLES)})")
    stale = []
    for name in names:
        if args.write:
            write(name)
        elif args.check:
            if in_page(name) != TABLES[name].render():
                stale.append(name)
        else:
            print(f"{markers(name)[0]}\n{TABLES[name].render()}\n{markers(name)[1]}\n")
    if stale:
        print(f"tables differing from their raw results: {', '.join(stale)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
