"""The four disentanglement metrics against an independent implementation: this project's MIG, DCI, SAP and
FactorVAE score beside the `disent` package's (`pip install disent`, a re-implementation of disentanglement_lib's
definitions and defaults), on the same representations of the `shapes` factors.

Representations: identity (each factor its own dimension), rotated (a random rotation of the identity: every
dimension mixes every factor), noise (independent of the factors), and with `--run RUN` a trained model's
`represent` on rendered sprites (Q's class probabilities and continuous means for InfoGAN). MIG, DCI and SAP are
computed by both implementations from the *same* sampled codes, so their difference is the estimator's alone;
each FactorVAE score draws its own groups. Every pair is repeated over `--repeats` sampling seeds; the spread is
the sampling noise a difference is judged against.

Both follow disentanglement_lib's definitions: DCI's importances from gradient-boosted trees (scikit-learn's
defaults), SAP from a linear SVM per code and factor (`sap`), and `sap_correlation` treating every factor as
continuous (squared correlation, disentanglement_lib's `continuous_factors=True`), the form InfoGAN-CR reports for
dSprites; `sap_bins` is this project's quantile-bin variant, which disent does not have. Where they still differ:
FactorVAE prunes dimensions whose standard deviation is below 0.05 here (disentanglement_lib's setting), below 0 in
disent.

Prints one JSON line per representation and metric, then one summary line; `--markdown` prints a table instead.
Usage: python benchmarks/metrics_crosscheck.py [--run RUN] [--samples 10000] [--votes 800] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np
import torch

from disentanglement_baselines import ShapesFactors  # beside this script
from infogan.data.shapes import SOURCE as SHAPES
from infogan.metrics.dci import dci_from_codes
from infogan.metrics.factor_vae import factor_vae_score
from infogan.metrics.ground_truth import GroundTruthData, Represent, sample_codes
from infogan.metrics.mig import mig_from_codes
from infogan.metrics.sap import sap_from_codes

METRICS = (
    "mig",
    "dci_disentanglement",
    "dci_completeness",
    "dci_informativeness",
    "sap",
    "sap_correlation",
    "sap_bins",
    "factorvae",
)


class DisentView:
    """A ground truth of this project seen through the part of disent's `DisentDataset` its metrics call."""

    def __init__(self, data: GroundTruthData) -> None:
        self.data = data
        self.gt_data = self  # disent reaches the factors through `dataset.gt_data`
        self.num_factors = len(data.factor_sizes)

    def sample_factors(self, n: int) -> np.ndarray:
        # disent draws from numpy's global generator; seeded by the caller.
        return np.stack([np.random.randint(size, size=n) for size in self.data.factor_sizes], axis=1)

    def dataset_batch_from_factors(self, factors: np.ndarray, mode: str) -> torch.Tensor:
        return self.data.render(torch.as_tensor(factors).long()) * 2 - 1  # the model range [-1, 1]

    def dataset_sample_batch(self, n: int, mode: str) -> torch.Tensor:
        return self.dataset_batch_from_factors(self.sample_factors(n), mode)


Codes = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""(codes, factors) of the training sample and of the held-out sample."""


def ours(
    represent: Represent, data: GroundTruthData, n: int, votes: int, seed: int
) -> tuple[dict[str, float], Codes]:
    """This project's scores, and the sampled codes the estimator comparison reuses."""
    generator = torch.Generator().manual_seed(seed)
    train = sample_codes(represent, data, n, generator)
    test = sample_codes(represent, data, n // 2, generator)
    dci = dci_from_codes(*train, *test, seed=seed)
    scores = {
        "mig": mig_from_codes(*train),
        "dci_disentanglement": dci.disentanglement,
        "dci_completeness": dci.completeness,
        "dci_informativeness": dci.informativeness,
        "sap": sap_from_codes(*train, *test),
        "sap_correlation": sap_from_codes(*train, *test, classifier="correlation"),
        "sap_bins": sap_from_codes(*train, *test, classifier="bins"),
        "factorvae": factor_vae_score(
            represent, data, n_train_votes=votes, n_eval_votes=votes // 2, seed=seed
        ),
    }
    return scores, (train, test)


def theirs(
    represent: Represent, data: GroundTruthData, codes: Codes, votes: int, seed: int, variance_samples: int
) -> dict[str, float]:
    """disent's scores: MIG, DCI and SAP on the given codes, FactorVAE on its own groups."""
    from disent.metrics._dci import _compute_dci
    from disent.metrics._factor_vae import metric_factor_vae
    from disent.metrics._mig import _compute_mig
    from disent.metrics._sap import _compute_sap

    (z_train, v_train), (z_test, v_test) = codes
    dci = _compute_dci(z_train.T, v_train.T, z_test.T, v_test.T)
    np.random.seed(seed)
    factorvae = metric_factor_vae.unwrap(  # the undecorated function, with explicit sample counts
        DisentView(data),
        lambda x: represent(x).detach().cpu().numpy(),
        num_train=votes,
        num_eval=votes // 2,
        num_variance_estimate=variance_samples,
    )
    sap = float(_compute_sap(z_train.T, v_train.T, z_test.T, v_test.T, continuous_factors=False)["sap.score"])
    sap_correlation = _compute_sap(z_train.T, v_train.T, z_test.T, v_test.T, continuous_factors=True)
    return {
        "mig": float(_compute_mig(z_train.T, v_train.T)["mig.discrete_score"]),
        "dci_disentanglement": float(dci["dci.disentanglement"]),
        "dci_completeness": float(dci["dci.completeness"]),
        "dci_informativeness": float(dci["dci.informativeness_test"]),
        "sap": sap,
        "sap_correlation": float(sap_correlation["sap.score"]),
        "factorvae": float(factorvae["factor_vae.eval_accuracy"]),
    }


def model_representation(run: str) -> tuple[Represent, GroundTruthData]:
    """A trained run's representation (the one `infogan eval` scores) and the sprites at its image size."""
    import infogan

    loaded = infogan.load(run)
    model = loaded.model

    def represent(x: torch.Tensor) -> torch.Tensor:
        if not model.encodes_images:
            raise SystemExit(f"error: {run} has no Q network or encoder to read images with")
        with torch.no_grad():
            return model.represent(x.to(model.device))

    return represent, SHAPES.ground_truth(loaded.config.data.image_size)


def representations(seed: int, run: str | None) -> dict[str, tuple[Represent, GroundTruthData]]:
    rotation = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(seed)))[0]
    noise = torch.Generator().manual_seed(seed + 1)
    factors = ShapesFactors()
    out: dict[str, tuple[Represent, GroundTruthData]] = {
        "identity": (lambda x: x.flatten(1), factors),
        "rotated": (lambda x: x.flatten(1) @ rotation, factors),
        "noise": (lambda x: torch.rand(x.shape[0], 5, generator=noise), factors),
    }
    if run:
        out[f"model {run}"] = model_representation(run)
    return out


def spread(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", help="a run trained on shapes, scored beside the reference representations")
    parser.add_argument(
        "--samples", type=int, default=10_000, help="codes for MIG, DCI, SAP (half as many held out)"
    )
    parser.add_argument(
        "--votes", type=int, default=800, help="FactorVAE training votes (half as many scored)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="sampling seeds per representation")
    parser.add_argument("--markdown", action="store_true", help="print a table instead of JSON lines")
    args = parser.parse_args()
    try:
        import disent  # noqa: F401
    except ImportError:
        sys.exit("error: the cross-check needs the disent package: pip install disent")
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for name, (represent, data) in representations(0, args.run).items():
        ours_runs: list[dict[str, float]] = []
        theirs_runs: list[dict[str, float]] = []
        for repeat in range(args.repeats):
            mine, codes = ours(represent, data, args.samples, args.votes, seed=repeat)
            ours_runs.append(mine)
            theirs_runs.append(theirs(represent, data, codes, args.votes, repeat, args.samples))
            print(f"{name}: repeat {repeat + 1}/{args.repeats} done", file=sys.stderr, flush=True)
        for metric in METRICS:
            mean_ours, std_ours = spread([r[metric] for r in ours_runs])
            if metric not in theirs_runs[0]:  # sap_bins: the project's own variant
                continue
            mean_theirs, std_theirs = spread([r[metric] for r in theirs_runs])
            rows.append(
                {
                    "benchmark": "metrics_crosscheck",
                    "representation": name,
                    "metric": metric,
                    "ours": round(mean_ours, 4),
                    "ours_std": round(std_ours, 4),
                    "disent": round(mean_theirs, 4),
                    "disent_std": round(std_theirs, 4),
                    "difference": round(mean_ours - mean_theirs, 4),
                }
            )
    summary = {
        "benchmark": "metrics_crosscheck",
        "samples": args.samples,
        "votes": args.votes,
        "repeats": args.repeats,
        "seconds": round(time.perf_counter() - start, 1),
    }
    if args.markdown:
        print("| representation | metric | ours (std) | disent (std) | difference |")
        print("|---|---|---|---|---|")
        for row in rows:
            print(
                f"| {row['representation']} | {row['metric']} | {row['ours']:.3f} ({row['ours_std']:.3f}) | "
                f"{row['disent']:.3f} ({row['disent_std']:.3f}) | {row['difference']:+.3f} |"
            )
        print(json.dumps(summary))
        return
    for row in rows:
        print(json.dumps(row))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
