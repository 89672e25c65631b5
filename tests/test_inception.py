"""Standard Inception FID from a local weights file: the weights are read safely and the path works end to end.

No real Inception weights can be downloaded here, so the tests write a file of the right format with random
values; the scores are then meaningless, but every step a user's real file takes is exercised.
"""

from __future__ import annotations

import pickle
from unittest import mock

import pytest
import torch

from infogan.errors import ConfigError
from infogan.evaluation.features import inception_extractor, sample_quality

fidelity = pytest.importorskip(
    "torch_fidelity.feature_extractor_inceptionv3",
    reason="torch-fidelity not installed (pip install 'infogan[inception]')",
)


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """A torch-fidelity Inception-v3 state dict with random values, saved the way the real file is."""
    folder = tmp_path_factory.mktemp("inception")
    empty = folder / "empty.pt"
    torch.save({}, empty)
    net_cls = fidelity.FeatureExtractorInceptionV3
    with mock.patch.object(net_cls, "load_state_dict", lambda self, sd: None):
        torch.manual_seed(0)
        net = net_cls("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty))
    path = folder / "pt_inception-random.pth"
    torch.save(net.state_dict(), path)
    return path


def test_inception_features_score_grayscale_images(random_weights):
    extract = inception_extractor(random_weights, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    real = torch.rand(4, 1, 28, 28, generator=g) * 2 - 1
    fake = torch.rand(4, 1, 28, 28, generator=g) * 2 - 1
    assert extract(real).shape == (4, 2048)
    result = sample_quality(extract, real, fake, k=2)
    assert result["features"]["network"] == "inception-v3" and result["features"]["feature_dim"] == 2048
    assert result["fid"] >= 0


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickled_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"w": Payload()}))
    with pytest.raises(ConfigError, match="cannot read Inception weights"):
        inception_extractor(path, torch.device("cpu"))
    assert not marker.exists()


def test_a_file_of_other_tensors_is_refused_in_one_line(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(ConfigError, match="does not hold Inception-v3 weights"):
        inception_extractor(path, torch.device("cpu"))
