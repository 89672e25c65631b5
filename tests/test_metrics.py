import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.config import EvalConfig
from infogan.data import ImageTensorDataset
from infogan.evaluation.codes import evaluate_codes
from infogan.metrics.cluster_accuracy import categorical_predictions, category_usage, cluster_accuracy
from infogan.metrics.mutual_info import _batch_sizes, mi_lower_bounds

from .test_models import tiny_model


def test_permuted_clusters_score_one_and_map_back():
    labels = np.repeat(np.arange(10), 20)
    perm = np.random.default_rng(0).permutation(10)
    result = cluster_accuracy(perm[labels], labels, 10)
    assert result.accuracy == 1.0
    assert np.array_equal(result.mapping[perm], np.arange(10))
    assert result.confusion.sum() == 200 and np.all(result.confusion.max(axis=1) == 20)


def test_matching_is_one_to_one():
    # Everything predicted as cluster 0: a many-to-one mapping would score 1.0, the Hungarian one scores 1/K.
    labels = np.repeat(np.arange(4), 5)
    assert cluster_accuracy(np.zeros(20, dtype=int), labels, 4).accuracy == pytest.approx(0.25)


def test_hand_worked_confusion():
    labels = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([1, 1, 0, 0, 0, 2])  # best: 1->0, 0->1, 2->2: 2 + 2 + 1 correct of 6
    result = cluster_accuracy(pred, labels, 3)
    assert result.accuracy == pytest.approx(5 / 6)
    assert result.confusion.tolist() == [[1, 2, 0], [2, 0, 0], [0, 0, 1]]


def test_random_predictions_are_near_chance():
    rng = np.random.default_rng(0)
    acc = cluster_accuracy(rng.integers(0, 10, 5000), rng.integers(0, 10, 5000), 10).accuracy
    assert 0.09 < acc < 0.13


def test_more_clusters_than_labels():
    labels = np.array([0, 0, 1, 1])
    result = cluster_accuracy(np.array([0, 3, 1, 1]), labels, 4, n_labels=2)
    assert result.accuracy == pytest.approx(0.75) and sorted(result.mapping.tolist()).count(-1) == 2


def test_mi_lower_bound_of_untrained_model_is_below_ceiling():
    model = tiny_model("infogan")
    mi = mi_lower_bounds(model, 300, batch_size=100, generator=torch.Generator().manual_seed(0))
    assert set(mi) == {"c1", "c2", "c3"}
    assert mi["c1"] <= math.log(10) and mi["c1"] < 0.5  # an untrained Q knows nothing about c1


def test_a_last_batch_of_one_joins_the_one_before_so_batch_statistics_exist():
    model = tiny_model("infogan")  # Q has batch norm
    mi = mi_lower_bounds(
        model, 101, batch_size=50, generator=torch.Generator().manual_seed(0), batch_stats=True
    )
    assert all(math.isfinite(v) for v in mi.values())
    assert (
        _batch_sizes(101, 50) == [50, 51] and _batch_sizes(100, 50) == [50, 50] and _batch_sizes(7, 50) == [7]
    )


def test_categorical_predictions_batches():
    model = tiny_model("infogan")
    x = torch.rand(7, 1, 8, 8) * 2 - 1
    pred = categorical_predictions(model.infer_codes, x, "c1", batch_size=3)
    assert pred.shape == (7,) and torch.equal(pred, model.infer_codes(x)["c1"]["logits"].argmax(1))


def test_category_usage_hand_worked():
    even = category_usage(torch.arange(20) % 4, 4)
    assert even["usage"] == [0.25] * 4 and even["usage_entropy"] == pytest.approx(math.log(4))
    # Two classes merged into category 0, category 3 left empty: shares 1/2, 1/4, 1/4, 0.
    merged = category_usage(torch.tensor([0, 0, 1, 2]), 4)
    assert merged["usage"] == [0.5, 0.25, 0.25, 0.0]
    assert merged["usage_entropy"] == pytest.approx(1.5 * math.log(2))
    assert category_usage(torch.zeros(5, dtype=torch.long), 3)["usage_entropy"] == 0.0


def test_category_usage_rejects_categories_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        category_usage(torch.tensor([0, 3]), 3)


def test_evaluate_codes_reports_usage_without_labels_and_accuracy_with_them():
    model = tiny_model("infogan")
    x = torch.rand(30, 1, 8, 8) * 2 - 1
    cfg = EvalConfig(mi_samples=50, batch_size=25)
    pred = model.infer_codes(x)["c1"]["logits"].argmax(1)
    unlabelled = evaluate_codes(model, ImageTensorDataset("u", x), cfg)["codes"]
    assert unlabelled["c1"]["usage"] == category_usage(pred, 10)["usage"]
    assert "accuracy" not in unlabelled["c1"]
    assert "usage" not in unlabelled["c2"]  # continuous codes have no categories
    labelled = evaluate_codes(model, ImageTensorDataset("l", x, pred), cfg)["codes"]["c1"]
    assert labelled["usage"] == unlabelled["c1"]["usage"] and labelled["accuracy"] == 1.0


# What metrics/ may import of the package: the bottom modules (images, progress lines, the ranks' world, the latent
# spec, errors) and itself.
# The models, the config, the data and the training layer reach the metrics through evaluation/, never from them.
_METRICS_MAY_IMPORT = (
    "infogan.metrics",
    "infogan.images",
    "infogan.progress",
    "infogan.world",
    "infogan.latent",
    "infogan.errors",
)


def _infogan_imports(path: Path) -> list[str]:
    """The infogan modules a metrics file imports, anywhere in it (relative imports resolved)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative to infogan.metrics
            base = "infogan.metrics".rsplit(".", node.level - 1)[0]
            names.append(f"{base}.{node.module}" if node.module else base)
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return [name for name in names if name == "infogan" or name.startswith("infogan.")]


def test_metrics_import_no_models_config_data_or_training():
    import infogan.metrics

    folder = Path(infogan.metrics.__file__).parent
    files = sorted(folder.glob("*.py"))
    assert len(files) > 10  # the scan found the package
    wrong = [
        f"{path.name}: {name}"
        for path in files
        for name in _infogan_imports(path)
        if not any(name == allowed or name.startswith(f"{allowed}.") for allowed in _METRICS_MAY_IMPORT)
    ]
    assert not wrong, f"metrics/ must take arrays, tensors and callables, not import these: {wrong}"
