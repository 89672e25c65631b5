"""The command line through its real entry point: `python -m infogan` in a new process for a full
train -> sample -> traverse -> eval flow, the same `main()` in-process for the rest."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

from .conftest import TINY, invoke, run_cli
from .test_data import fake_mnist

TINY_SETS = [arg for item in TINY for arg in ("--set", item)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    result = run_cli(
        "train",
        "--preset",
        "digits",
        "--steps",
        "4",
        "--seed",
        "3",
        "--log-every",
        "2",
        "--checkpoint-every",
        "2",
        "--run-dir",
        str(run_dir),
        *TINY_SETS,
    )
    assert result.returncode == 0, result.stderr
    return run_dir, result


def test_train_prints_progress_and_writes_the_run(trained):
    run_dir, result = trained
    assert "dataset: digits" in result.stderr
    assert "step 2/4" in result.stderr and "img/s" in result.stderr and "mi_c1" in result.stderr
    assert "step 1/4 took" in result.stderr and "progress every 2 steps, next at step 2" in result.stderr
    assert (
        f"next: infogan report {run_dir} (one HTML page of it all), infogan explore {run_dir}"
        in result.stderr
    )
    assert (
        "ETA" in result.stderr and "c1 (categorical, K=10)  L_I" in result.stderr and "FID" in result.stderr
    )
    assert (run_dir / "eval.json").is_file() and (
        run_dir / "checkpoints" / "step-4" / "manifest.json"
    ).is_file()


def test_sample_with_fixed_code(trained, tmp_path):
    run_dir, _ = trained
    out = tmp_path / "grid.png"
    result = invoke("sample", str(run_dir), "-n", "9", "-o", str(out), "--code", "c1=3")
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (3 * 66 + 2, 3 * 66 + 2)  # 3x3 tiles of 8px, enlarged to 64, 2px padding


def test_traverse_writes_a_figure(trained, tmp_path):
    run_dir, _ = trained
    out = tmp_path / "fig.png"
    result = invoke(
        "traverse", str(run_dir), "-o", str(out), "--code", "c2", "--range", "-2", "2", "--steps", "5"
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size[0] > 100


def test_traversal_rows_name_the_digit_each_category_was_matched_to(trained):
    from infogan.api import load_run

    run = load_run(trained[0])
    mapping = json.loads((trained[0] / "eval.json").read_text())["codes"]["c1"]["mapping"]
    assert run.matched_labels()["c1"] == mapping
    t = run.traverse("c2")
    assert t.row_labels == [f"c1={k} ({mapping[k]})" for k in range(10)]
    assert run.traverse("c1", rows_by=None).column_labels[3] == f"c1=3 ({mapping[3]})"
    older = load_run(
        trained[0] / "checkpoints" / "step-2"
    )  # eval.json is of step 4: no labels for these weights
    assert older.matched_labels() == {} and older.traverse("c2").row_labels[0] == "c1=0"


def test_traverse_all_codes_gives_one_row_per_continuous_code(trained, tmp_path):
    run_dir, _ = trained
    out = tmp_path / "all.png"
    result = invoke("traverse", str(run_dir), "-o", str(out), "--code", "all", "--steps", "4")
    assert result.returncode == 0, result.stderr
    assert "note: --code all sweeps the continuous codes; c1 keeps one draw" in result.stderr
    assert "wrote the traversal of every continuous code" in result.stderr
    one = tmp_path / "one.png"
    assert invoke("traverse", str(run_dir), "-o", str(one), "--code", "c2", "--steps", "4").returncode == 0
    assert Image.open(out).size[1] < Image.open(one).size[1]  # 2 rows against 10


def test_eval_json_is_one_object_with_the_documented_keys(trained):
    run_dir, _ = trained
    result = run_cli("eval", str(run_dir), "--json", "--mi-samples", "200")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert result.stdout.count("\n") == 1
    assert metrics["step"] == 4 and metrics["dataset"] == "digits" and metrics["n_eval"] == 300
    c1 = metrics["codes"]["c1"]
    assert c1["type"] == "categorical" and c1["k"] == 10 and abs(c1["entropy"] - 2.302585) < 1e-5
    assert 0 <= c1["accuracy"] <= 1 and len(c1["confusion"]) == 10 and sum(map(sum, c1["confusion"])) == 300
    # usage agrees with the confusion matrix's column sums (images per predicted category)
    assert c1["usage"] == [sum(row[j] for row in c1["confusion"]) / 300 for j in range(10)]
    assert metrics["codes"]["c2"]["type"] == "continuous" and "mi_lower_bound" in metrics["codes"]["c3"]
    assert all("mi_lower_bound_batch_stats" in entry for entry in metrics["codes"].values())
    for key in ("fid", "kid", "precision", "recall"):
        assert isinstance(metrics[key], float), key
    assert metrics["features"]["network"] == "classifier" and metrics["features"]["n_fake"] == 64
    assert 0 <= metrics["features"]["test_accuracy"] <= 1
    semantics = metrics["code_semantics"]
    assert set(semantics) == {"c2", "c3"} and "slant" in semantics["c2"]["table"]
    assert semantics["c2"]["property"] in semantics["c2"]["table"]
    assert (
        0 <= c1["fidelity"] <= 1 and len(c1["fidelity_per_category"]) == 10 and c1["fidelity_samples"] == 50
    )
    assert metrics["split"] == "test"
    assert "disentanglement" not in metrics  # digits have no known factors
    assert {"codes", "quality", "semantics"} <= set(metrics["timings"])
    assert "eval: FID/KID" in result.stderr  # progress goes to stderr, never into the JSON


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics", "codes,fidd"], "error: bad --metrics 'codes,fidd': choose from codes, quality"),
        (
            ["--fid-samples", "1"],
            "error: bad config in the eval options: fid_samples: Input should be greater",
        ),
        (["--fid-features", "inception"], "error: Inception features need the weights file"),
        (
            ["--fid-features", "inception", "--fid-weights", "/nonexistent/pt_inception.pth"],
            "error: Inception weights not found at /nonexistent/pt_inception.pth",
        ),
    ],
)
def test_bad_eval_options_are_one_line(trained, args, message):
    result = invoke("eval", str(trained[0]), "--metrics", "quality", *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr


def test_resume_continues_to_a_larger_budget(trained, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(trained[0], run_dir)
    result = invoke("train", "--run-dir", str(run_dir), "--resume", "--steps", "6")
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stderr and "step 6/6" in result.stderr
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--set", "train.stepz=3"], "error: bad --set 'train.stepz=3': unknown key 'train.stepz'"),
        (["train", "--preset", "nope"], "error: unknown preset 'nope'"),
        (
            ["train", "--preset", "digits", "--set", "data.image_size=10", "--set", "train.steps=1"],
            "error: cannot build infogan for digits: image size must be a multiple of 4",
        ),
        (
            [
                "train",
                "--dataset",
                "mnist",
                "--data-root",
                "/nonexistent/data",
                "--set",
                "data.download=false",
            ],
            "error: data root /nonexistent/data does not exist",
        ),
        (["sample", "/nonexistent/run"], "error: run directory /nonexistent/run does not exist"),
        (["eval", "/tmp"], "error: /tmp is not a run directory"),
        (
            ["train", "--resume", "--run-dir", "/nonexistent/run"],
            "error: cannot resume: /nonexistent/run holds no run",
        ),
    ],
)
def test_user_mistakes_give_one_line_and_nonzero_exit(args, message):
    result = invoke(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]], result.stderr
    assert lines[-1].startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_checkpoint_that_does_not_exist_is_named_with_those_that_do(trained):
    run_dir, _ = trained
    result = invoke("eval", str(run_dir / "checkpoints" / "step-3"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: checkpoint {run_dir / 'checkpoints' / 'step-3'} does not exist; "
        "the run's complete checkpoints are step-2, step-4"
    )


def test_an_incomplete_checkpoint_is_named_as_one(trained, tmp_path, monkeypatch):
    run_dir = shutil.copytree(trained[0], tmp_path / "run")
    (run_dir / "checkpoints" / "step-6").mkdir()  # what a save killed before its manifest leaves behind
    result = invoke("eval", str(run_dir / "checkpoints" / "step-6"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: checkpoint {run_dir / 'checkpoints' / 'step-6'} is incomplete (no readable manifest.json: a save "
        "that was interrupted, or a damaged file); the run's complete checkpoints are step-2, step-4"
    )
    monkeypatch.chdir(run_dir / "checkpoints")  # a checkpoint named from inside its run
    missing = invoke("eval", "step-3")
    last = missing.stderr.strip().splitlines()[-1]
    assert last.startswith("error: checkpoint step-3 does not exist; the run's complete checkpoints are")
    found = invoke("sample", "step-2", "-n", "4", "-o", str(tmp_path / "grid.png"))
    assert found.returncode == 0, found.stderr


def test_unwritable_output_is_one_line(trained, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("sample", str(trained[0]), "-o", str(blocker / "x.png"))
    assert result.returncode == 2 and result.stderr.startswith("error: -o "), result.stderr
    assert "is a file, not a folder" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("sample", "is a folder; give a file name, e.g. -o"),
        ("traverse", "is a folder; give a file name"),
        ("reconstruct", "is a folder; give a file name"),
        ("eval", "is a folder; give a file name"),
        ("report", "is a folder; give a file name"),
    ],
)
def test_an_output_folder_is_refused_before_any_work(trained, tmp_path, command, message, monkeypatch):
    import infogan.api

    def never(*args, **kwargs):
        raise AssertionError("the run was loaded before the output was checked")

    monkeypatch.setattr(infogan.api, "load_run", never)
    result = invoke(command, str(trained[0]), "-o", str(tmp_path))
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1, (
        result.stderr
    )


@pytest.mark.parametrize(
    ("command", "given", "written"),
    [("sample", "grid", "grid.png"), ("traverse", "figure", "figure.png"), ("report", "page", "page.html")],
)
def test_an_output_without_a_suffix_gets_one_and_the_message_names_it(
    trained, tmp_path, command, given, written
):
    result = invoke(command, str(trained[0]), "-o", str(tmp_path / given))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / written).is_file() and not (tmp_path / given).exists()
    assert str(tmp_path / written) in result.stderr


def test_an_output_in_a_folder_that_does_not_exist_yet_is_written_there(trained, tmp_path):
    out = tmp_path / "new" / "sub" / "eval.json"
    result = invoke("eval", str(trained[0]), "--metrics", "codes", "--mi-samples", "50", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["step"] == 4


def test_report_evaluate_shows_its_progress(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained[0], copy)
    result = invoke("report", str(copy), "--evaluate", "-o", str(tmp_path / "r.html"))
    assert result.returncode == 0, result.stderr
    assert "evaluating" in result.stderr
    assert "eval: L_I from" in result.stderr  # the evaluation's own progress


def test_an_output_of_another_type_is_refused(trained, tmp_path):
    result = invoke("sample", str(trained[0]), "-o", str(tmp_path / "grid.html"))
    assert result.returncode == 2 and "must end in .png, .jpg, .jpeg" in result.stderr


def test_eval_on_a_dataset_of_another_image_size_is_refused(trained):
    result = invoke("eval", str(trained[0]), "--dataset", "mnist-sample", "--mi-samples", "10")
    assert result.returncode == 2
    assert "has images of shape (1, 28, 28), the model makes (1, 8, 8)" in result.stderr


def test_eval_of_a_run_directory_saves_its_eval_json_and_of_a_checkpoint_does_not(tmp_path):
    run_dir = tmp_path / "early"
    made = run_cli(
        "train", "--preset", "digits", "--steps", "3", "--run-dir", str(run_dir), "--no-eval", *TINY_SETS
    )
    assert made.returncode == 0, made.stderr
    assert f"not evaluated: infogan eval {run_dir} evaluates it" in made.stderr
    checkpoint = invoke("eval", str(run_dir / "checkpoints" / "step-3"))
    assert checkpoint.returncode == 0 and not (run_dir / "eval.json").exists()
    assert "not saved as the run's eval.json (an evaluation with checkpoint step-3)" in checkpoint.stderr
    partial = invoke("eval", str(run_dir), "--metrics", "codes")
    assert partial.returncode == 0 and not (run_dir / "eval.json").exists()
    assert "not saved as the run's eval.json (an evaluation with other settings: metrics)" in partial.stderr
    result = invoke("eval", str(run_dir))
    assert result.returncode == 0, result.stderr
    assert f"evaluation written to {run_dir / 'eval.json'}" in result.stderr
    assert json.loads((run_dir / "eval.json").read_text())["step"] == 3
    assert invoke("compare", str(run_dir)).returncode == 0  # the advice does not loop


def test_eval_split_names_the_images_scored_and_refuses_what_the_dataset_lacks(trained):
    both = run_cli(
        "eval", str(trained[0]), "--json", "--split", "all", "--metrics", "codes", "--mi-samples", "10"
    )
    assert both.returncode == 0, both.stderr
    metrics = json.loads(both.stdout)
    assert metrics["split"] == "all" and metrics["n_eval"] == 1797  # digits: 1,497 train + 300 test
    val = invoke("eval", str(trained[0]), "--split", "val", "--metrics", "codes", "--mi-samples", "10")
    assert val.returncode == 2
    assert "error: dataset digits has no validation split; evaluate on train, test or all" in val.stderr
    bad = invoke("eval", str(trained[0]), "--split", "holdout")
    assert bad.returncode == 2 and "split: Input should be 'train', 'val', 'test' or 'all'" in bad.stderr


def test_bad_code_value_for_sample(trained, tmp_path):
    result = invoke("sample", str(trained[0]), "-o", str(tmp_path / "x.png"), "--code", "c1=12")
    assert result.returncode == 2 and "give an integer in 0..9" in result.stderr


def test_presets_and_datasets_listings():
    presets = invoke("presets")
    assert presets.returncode == 0 and "mnist" in presets.stdout and "digits" in presets.stdout
    shown = invoke("presets", "mnist")
    assert "noise: 62" in shown.stdout and "lr_g: 0.001" in shown.stdout
    listing = invoke("datasets")
    assert listing.returncode == 0
    assert (
        "mnist-sample" in listing.stdout
        and "available" in listing.stdout
        and "how to get it" in listing.stdout
    )


def test_the_listings_say_whole_sentences_and_usage_names_the_run():
    from infogan.cli.presets import first_sentence

    assert first_sentence("InfoGAN on X (Sec. 5, Fig. 2; Chen et al. 2016). More text.") == (
        "InfoGAN on X (Sec. 5, Fig. 2; Chen et al. 2016)."
    )
    entries = re.split(r"\n(?=\S)", invoke("presets").stdout.strip())
    assert len(entries) >= 18 and all(entry.rstrip().endswith((".", ")")) for entry in entries), entries
    commands = invoke("--help").stdout
    listed = commands.split("Commands:")[1]
    assert "mi-experiment  The paper's Fig. 1: L_I of InfoGAN" in listed and "..." not in listed
    assert invoke("sample", "--help").stdout.startswith("Usage: infogan sample [OPTIONS] RUN\n")
    assert invoke("compare", "--help").stdout.startswith("Usage: infogan compare [OPTIONS] RUN...\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample", "--code", "c1=3", "--code", "c1=4"], "--code c1 is given twice (c1=3 and c1=4)"),
        (["sample", "--code", "c1=12"], "give an integer in 0..9, not 12\n"),
        (["traverse", "--range", "1", "1"], "--range 1 1: the first value must be below the second"),
        (["traverse", "--range", "-1e300", "1e300"], "both values must be numbers within -1000..1000"),
        (["traverse", "--range", "nan", "1"], "--range nan 1: both values must be numbers"),
        (["traverse", "--steps", "100000"], "Invalid value for '--steps'"),
        (["sample", "--seed", "99999999999"], "Invalid value for '--seed'"),
        (["sample", "-n", "1000000"], "Invalid value for '-n'"),
        (["sample", "--code", "c2=1e400"], "error: code c2 must be a finite number, not inf\n"),
    ],
)
def test_careless_sample_and_traverse_options_are_refused(trained, args, message, tmp_path):
    result = invoke(args[0], str(trained[0]), *args[1:], "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.parametrize("command", ["sample", "eval", "export"])
def test_a_hand_edited_config_that_cannot_build_the_model_is_one_line(trained, tmp_path, command):
    run_dir = shutil.copytree(trained[0], tmp_path / "run")
    config = run_dir / "config.yaml"
    config.write_text(re.sub(r"image_size: \d+", "image_size: 9", config.read_text()))
    result = invoke(command, str(run_dir), "-o", str(tmp_path / ("x.png" if command == "sample" else "out")))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {config}: cannot build infogan for 1x9x9 images"), result.stderr


def test_inception_features_without_their_weights_are_refused_before_any_metric_runs(trained):
    result = invoke("eval", str(trained[0]), "--fid-features", "inception")  # codes would run before quality
    assert result.returncode == 2 and "eval:" not in result.stderr, result.stderr


def test_rows_that_are_categories_say_that_rows_does_not_apply(trained, tmp_path):
    result = invoke("traverse", str(trained[0]), "--rows", "3", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 0, result.stderr
    assert "note: --rows 3 applies to rows of independent draws (--rows-by noise)" in result.stderr


def test_a_code_far_outside_its_prior_is_drawn_with_a_note(trained, tmp_path):
    result = invoke("sample", str(trained[0]), "--code", "c2=100", "-n", "4", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 0, result.stderr
    assert "note: c2=100 is far outside its prior U(-1, 1)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["select", "/nope/run", "/nope/other"], "error: run directory /nope/run does not exist"),
        (["eval", "/nope/run"], "error: run directory /nope/run does not exist"),
        (
            ["mi-experiment", "--run-dir", "/tmp/x", "--steps", "0"],
            "error: bad config in --steps 0: train.steps",
        ),
        (["train", "--dataset", "folder:"], "error: --dataset folder: needs the folder's path"),
        (["sweep", "--seeds", "2", "--run-dir", "/tmp/x", "--dataset", "folder:"], "needs the folder's path"),
    ],
)
def test_mistakes_are_worded_as_the_user_typed_them(args, message):
    result = invoke(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_eval_on_a_few_generated_images_says_the_quality_figures_mean_little(trained):
    result = invoke("eval", str(trained[0]), "--metrics", "quality", "--fid-samples", "10", "--json")
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert any(
        n.startswith("quality: 10 generated images are too few for FID, KID, precision") for n in notes
    )


def test_a_seed_beyond_numpys_range_is_refused_by_train():
    result = invoke("train", "--preset", "digits", "--seed", "99999999999")
    assert result.returncode == 2
    assert (
        "error: bad config in --seed 99999999999: train.seed: Input should be less than or equal to 4294967295"
        in (result.stderr)
    )


# The mnist preset at a tiny size, one update, no download: for the tests of where MNIST is found.
TINY_MNIST = [
    "--steps",
    "1",
    *(
        item
        for key in (
            "data.download=false",
            "model.g_hidden=16",
            "model.d_hidden=16",
            "model.width=4",
            "model.q_hidden=8",
            "train.batch_size=8",
            "eval.mi_samples=16",
            "eval.metrics=[codes]",
        )
        for item in ("--set", key)
    ),
]


def test_missing_mnist_falls_back_to_the_sample_and_says_so(tmp_path, no_mnist_in_the_cache):
    (tmp_path / "none").mkdir()  # a data root without MNIST in it
    result = invoke(
        "train", "--run-dir", str(tmp_path / "r"), "--data-root", str(tmp_path / "none"), *TINY_MNIST
    )
    assert result.returncode == 0, result.stderr
    assert "dataset: mnist-sample" in result.stderr and "mnist is not available" in result.stderr
    assert json.loads((tmp_path / "r" / "eval.json").read_text())["n_eval"] == 1000


def test_mnist_is_searched_in_the_data_root_then_in_infogan_data_root(
    tmp_path, monkeypatch, no_mnist_in_the_cache
):
    fake_mnist(tmp_path / "data" / "MNIST" / "raw", n_train=40, n_test=20)
    (tmp_path / "none").mkdir()
    monkeypatch.setenv("INFOGAN_DATA_ROOT", str(tmp_path / "data"))
    found = invoke("train", "--run-dir", str(tmp_path / "env"), *TINY_MNIST)
    assert found.returncode == 0, found.stderr
    assert "dataset: mnist - full MNIST" in found.stderr
    assert json.loads((tmp_path / "env" / "eval.json").read_text())["n_eval"] == 20
    given = invoke(
        "train", "--run-dir", str(tmp_path / "arg"), "--data-root", str(tmp_path / "none"), *TINY_MNIST
    )
    assert given.returncode == 0, given.stderr  # a data root without MNIST: INFOGAN_DATA_ROOT's is found
    assert "dataset: mnist - full MNIST" in given.stderr
    assert json.loads((tmp_path / "arg" / "eval.json").read_text())["n_eval"] == 20
    monkeypatch.setenv("INFOGAN_DATA_ROOT", str(tmp_path / "none"))
    neither = invoke(
        "train", "--run-dir", str(tmp_path / "no"), "--data-root", str(tmp_path / "none"), *TINY_MNIST
    )
    assert neither.returncode == 0, neither.stderr
    assert "dataset: mnist-sample" in neither.stderr and str(tmp_path / "none") in neither.stderr
    assert "INFOGAN_DATA_ROOT" in invoke("train", "--help").stdout


def test_a_bad_value_names_only_the_flag_it_came_from_as_typed():
    result = invoke("train", "--steps", "-5", "--set", "train.threads=1")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: bad config in --steps -5: train.steps: Input should be greater than or equal to 1 (got -5)"
    )
    section = invoke("train", "--set", "model.lipschitz=clip", "--set", "train.threads=1")
    assert section.stderr.strip() == (
        "error: bad config in --set model.lipschitz=clip: model: the wasserstein loss needs lipschitz clip or gp, "
        "and clip/gp apply only to the wasserstein loss"
    )


def test_user_mistake_from_a_new_process_has_no_traceback():
    result = run_cli("train", "--set", "model.latent.codes=[cat:1]", "--set", "data.download=false")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: bad config in --set model.latent.codes=[cat:1]: "
        "model.latent.codes: bad latent code 'cat:1': a categorical code needs K >= 2 "
        "(got ['cat:1'])"
    )


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_checkpoints_exits_128_plus_signal_and_resume_continues(tmp_path, signame):
    import os
    import signal
    import subprocess
    import sys

    signum = getattr(signal, signame)

    run_dir = tmp_path / "run"
    args = [
        "train",
        "--preset",
        "digits",
        "--run-dir",
        str(run_dir),
        *TINY_SETS,
        "--steps",
        "100000",
        "--log-every",
        "1",
        "--checkpoint-every",
        "100000",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infogan", *args], stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("step 3/"):
            break
    proc.send_signal(signum)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 128 + signum, rest
    assert f"{signame}: finishing this step and writing a checkpoint" in rest
    assert "stopped at step" in rest and "Traceback" not in rest
    stopped = int(rest.split("stopped at step ")[1].split(";")[0])
    assert (run_dir / "checkpoints" / f"step-{stopped}" / "manifest.json").is_file()

    result = invoke("train", "--run-dir", str(run_dir), "--resume", "--steps", str(stopped + 2))
    assert result.returncode == 0, result.stderr
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, stopped + 3))  # nothing repeated, nothing skipped


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0, 4.0])
def test_ctrl_c_while_starting_ends_quietly(tmp_path, delay):
    """A Ctrl-C while the command line imports its libraries or builds the run: one line, no traceback (the
    first tenths of a second are Python's own start-up, before any of infogan runs)."""
    args = ["-m", "infogan", "train", "--preset", "digits", "--run-dir", str(tmp_path / "r"), *TINY_SETS]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, *args], stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and proc.returncode == 130, err
    assert err.rstrip().endswith(("interrupted", "--resume")), err


def test_reconstruct_needs_a_model_with_an_encoder(trained, tmp_path):
    result = invoke("reconstruct", str(trained[0]), "-o", str(tmp_path / "r.png"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: this infogan run has no encoder to reconstruct with; reconstruct applies to vae runs"
    )


def test_the_summary_prints_baselines_and_no_false_ceilings_negative_zeros_or_empty_lines():
    from infogan.cli.summary import summary_lines
    from infogan.evaluation.record import EvalRecord

    result = {
        "step": 3,
        "dataset": "digits",
        "split": "test",
        "codes": {
            "c1": {
                "type": "categorical",
                "k": 2,
                "entropy": 0.6931,
                "mi_lower_bound": 0.6,
                "usage": [0.5, 0.5],
                "usage_entropy": -1e-12,
            },
            "c2": {"type": "continuous", "prior": "uniform", "entropy": 0.6931, "mi_lower_bound": 0.7151},
        },
        "baselines": {"held_out": {"fid": 8.9, "kid": 0.1, "precision": 0.9, "recall": 0.8}},
        "notes": ["disentanglement: digits has no known factors (use the shapes or dsprites dataset)"],
        "timings": {},
    }
    lines = summary_lines(EvalRecord.model_validate(result))
    assert "  c1 (categorical, K=2)  L_I 0.6000 nats (ceiling H(c) 0.6931)" in lines
    assert "  c2 (continuous, uniform)  L_I 0.7151 nats" in lines  # a continuous code's entropy is no ceiling
    assert "usage entropy 0.0000 of 0.6931" in lines[2]
    assert "    held-out real images (the floor): fid 8.9, kid 0.1, precision 0.9, recall 0.8" in lines
    assert not any(line.strip().startswith("seconds:") for line in lines)


def test_the_summary_names_the_two_factors_each_code_reads_most():
    from infogan.cli.summary import summary_lines
    from infogan.evaluation.record import EvalRecord

    result = {
        "step": 3,
        "dataset": "dsprites",
        "split": "test",
        "disentanglement": {"mig": 0.05},
        "code_factor_mi": {"c1": {"shape": 0.01, "scale": 0.3, "x": 0.25}, "c2": {"shape": 0.0, "x": 0.4}},
    }
    lines = summary_lines(EvalRecord.model_validate(result))
    assert "  c1 reads scale 0.300, then x 0.250 (share of the factor's entropy)" in lines
    assert "  c2 reads x 0.400, then shape 0.000 (share of the factor's entropy)" in lines


def test_loading_a_run_to_sample_imports_no_evaluation_or_plotting_library():
    import subprocess
    import sys

    code = (
        "import sys, infogan.cli, infogan.cli.sample; from infogan.api import load_run; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'matplotlib', 'torchmetrics') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_conditional_run_ends_by_suggesting_a_label(tmp_path):
    run_dir = tmp_path / "cgan"
    sets = ["data.name=digits", "model.noise=4", "model.width=8", "train.batch_size=16"]
    args = ["train", "--preset", "cgan-mlp", "--steps", "2", "--no-eval", "--run-dir", str(run_dir)]
    result = invoke(*args, *[arg for item in sets for arg in ("--set", item)])
    assert result.returncode == 0, result.stderr
    assert f"infogan sample {run_dir} --label 3 (a grid)" in result.stderr


def test_the_command_line_starts_without_torch():
    """`infogan --help` loads only Typer: torch, numpy and even pydantic's config models (a quarter of a second)
    wait for the command that needs them."""
    import subprocess
    import sys

    heavy = "('torch', 'torchvision', 'numpy', 'pydantic', 'yaml')"
    code = f"import sys, infogan.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_missing_data_root_is_refused_by_datasets_as_by_train(tmp_path):
    result = invoke("datasets", "--data-root", str(tmp_path / "nope"))
    assert result.returncode == 2 and f"error: data root {tmp_path / 'nope'} does not exist" in result.stderr
    (tmp_path / "file").write_text("")
    result = invoke("datasets", "--data-root", str(tmp_path / "file"))
    assert (
        result.returncode == 2
        and f"error: data root {tmp_path / 'file'} is a file, not a folder" in result.stderr
    )


def test_version():
    from infogan import __version__

    result = invoke("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"infogan {__version__}"


def test_sample_grids_can_be_enlarged_and_captioned(trained, tmp_path):
    from PIL import Image

    plain, big, captioned = (tmp_path / f"{name}.png" for name in ("plain", "big", "captioned"))
    assert invoke("sample", str(trained[0]), "-n", "4", "-o", str(plain)).returncode == 0
    assert invoke("sample", str(trained[0]), "-n", "4", "-o", str(big), "--scale", "3").returncode == 0
    assert invoke("sample", str(trained[0]), "-n", "4", "-o", str(captioned), "--labels").returncode == 0
    w, h = Image.open(plain).size
    # 2 x 2 images of 8 pixels, enlarged 8 times to be readable, with make_grid's 2-pixel padding: 2 + 2 * (64 + 2)
    assert (w, h) == (134, 134) and Image.open(big).size == (2 + 2 * (24 + 2), 2 + 2 * (24 + 2))
    cw, ch = Image.open(captioned).size
    assert ch == h + 20 and cw >= w  # a caption band above the grid


def test_save_grid_labels_each_row():
    import tempfile
    from pathlib import Path

    from PIL import Image

    from infogan.viz.grids import save_grid

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "g.png"
        save_grid(torch.zeros(4, 1, 8, 8), path, 2, scale=1, row_labels=["real", "reconstructed"])
        labelled = Image.open(path)
        assert labelled.size[1] == 22 and labelled.size[0] > 22 + 40
        # the margin holds dark text pixels, the grid starts after it
        margin = labelled.crop((0, 0, labelled.size[0] - 22, 22)).convert("L")
        assert margin.getextrema()[0] < 100
        save_grid(torch.zeros(6, 1, 8, 8), path, 3, column_labels=["-1", "0", "1"])
        columns = Image.open(path)  # a band of labels above 3 x 2 images enlarged to 64 pixels
        assert columns.size == (2 + 3 * 66, 16 + 2 + 2 * 66)
        assert columns.crop((0, 0, columns.size[0], 14)).convert("L").getextrema()[0] < 100


def test_long_loops_report_the_time_left_at_most_every_few_seconds(monkeypatch):
    from infogan import progress

    clock = iter([0.0, 1.0, 6.0, 7.0, 12.5])  # start, then one reading per call
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    lines: list[str] = []
    eta = progress.Eta("eval: L_I", 10_000, lines.append, unit=" samples")
    for done in (1_000, 5_000, 6_000, 10_000):
        eta(done)
    # nothing in the first 5 s; at 6 s, 5,000 of 10,000 done: as long again to go; then again 6.5 s later
    assert lines == [
        "eval: L_I: 5,000/10,000 samples (0m06s so far, about 0m06s left)",
        "eval: L_I: 10,000/10,000 samples (0m12s so far, about 0m00s left)",
    ]
