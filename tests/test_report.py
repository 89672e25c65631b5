"""`infogan report`: one self-contained HTML page of a run, checked as text and as rendered by headless Chromium."""

import base64
import io
import json
import re
import shutil
import subprocess

import pytest
from PIL import Image

from infogan.api import train
from infogan.config import load_preset
from infogan.reporting.html import CSP
from infogan.reporting.report import build_report

from .conftest import TINY, invoke

CHROMIUM = "/usr/bin/chromium"
# Chromium logs every console message of a page (console.*, uncaught exceptions, Content-Security-Policy
# violations) as "[pid:tid:time:INFO:CONSOLE:<line>] "<text>", source: <url> (<line>)"; older builds wrote
# "CONSOLE(<line>)". Its own startup noise (dbus, GPU, sandbox warnings) never carries this tag.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")
IMG_SRC = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]*)\"")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished 6-step run: metrics.jsonl, samples, traversals, eval.json."""
    path = tmp_path_factory.mktemp("report") / "run"
    train(load_preset("digits", TINY), path, progress=lambda s: None)
    return path


@pytest.fixture(scope="module")
def page(run_dir):
    return build_report(run_dir)


def _copy_run(run_dir, dest):
    return shutil.copytree(run_dir, dest, ignore=shutil.ignore_patterns("checkpoints", "events.*"))


def test_report_has_every_section_and_the_config(page):
    for heading in ("Training", "Evaluation", "Latent codes", "Samples", "Traversals", "Config"):
        assert f"<h2>{heading}</h2>" in page
    assert "<title>Run report: run (infogan)</title>" in page
    assert "g_hidden: 32" in page and "codes:\n    - cat:10" in page  # the resolved config, verbatim
    assert "H(c) [nats]" in page and "2.303" in page  # ln 10, to 4 significant digits
    assert "no finite ceiling" in page and "accuracy" in page
    assert page.count("<figure>") == 9  # losses, other scalars, L_I, confusion, 2 sample grids, 3 traversals


def test_the_share_of_real_images_per_category_is_shown(run_dir, page):
    c1 = json.loads((run_dir / "eval.json").read_text())["codes"]["c1"]
    shares = " ".join(f"{v:.3f}" for v in c1["usage"])
    assert len(c1["usage"]) == 10
    cells = rf"<td>c1</td><td>{re.escape(shares)}</td><td class=num>{c1['usage_entropy']:.4g}</td><td class=num>2.303</td>"
    assert re.search(cells, page)
    assert "<th>usage_entropy</th>" not in page  # not repeated as a generic column of the codes table


def test_report_is_self_contained(page):
    sources = IMG_SRC.findall(page)
    assert len(sources) == page.count("<img")
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()  # a real PNG
    assert not re.search(r"https?://", page, flags=re.IGNORECASE)
    assert "<script" not in page and "<link" not in page
    assert f'content="{CSP}"' in page


def test_cli_writes_report_html_into_the_run(run_dir, tmp_path):
    result = invoke("report", str(run_dir))
    assert result.returncode == 0, result.stderr
    assert (run_dir / "report.html").read_text().startswith("<!doctype html>")
    out = tmp_path / "sub" / "r.html"
    assert invoke("report", str(run_dir / "checkpoints" / "step-6"), "-o", str(out)).returncode == 0
    assert "<h2>Latent codes</h2>" in out.read_text()


def test_a_run_without_eval_json_is_reported_and_says_so(run_dir, tmp_path):
    run = _copy_run(run_dir, tmp_path / "run")
    (run / "eval.json").unlink()
    page = build_report(run)
    assert "no eval.json in this run" in page and f"infogan eval {run}" in page
    assert "<h2>Latent codes</h2>" in page and "2.303" in page  # codes and H(c) come from the config
    assert "confusion" not in page

    (run / "eval.json").write_text('{"step": 6, "codes": ')  # torn by a crash
    assert "eval.json is unreadable" in build_report(run)


def test_a_truncated_sample_grid_is_named_not_embedded(run_dir, tmp_path):
    run = _copy_run(run_dir, tmp_path / "run")
    newest = sorted((run / "samples").glob("*.png"))[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    assert f"{newest.name} could not be read" in build_report(run)
    newest.write_bytes(b"not a picture at all")
    page = build_report(run)
    assert (
        f"{newest.name} could not be read: not in any image format Pillow reads" in page
        and "BytesIO" not in page
    )


def test_evaluate_flag_writes_eval_json_first(run_dir, tmp_path):
    run = shutil.copytree(run_dir, tmp_path / "run")
    (run / "eval.json").unlink()
    result = invoke("report", str(run), "--evaluate")
    assert result.returncode == 0, result.stderr
    assert json.loads((run / "eval.json").read_text())["step"] == 6
    assert "confusion matrix of c1" in (run / "report.html").read_text()


def test_every_metric_of_an_extended_eval_json_is_shown(run_dir, tmp_path):
    run = _copy_run(run_dir, tmp_path / "run")
    metrics = json.loads((run / "eval.json").read_text())
    metrics["codes"]["c2"]["new_code_score"] = 0.5
    metrics.update(
        fid=12.3456789,
        kid=0.001234567,
        features={"network": "digits-cnn", "accuracy": 0.987654, "n_real": 1000},
        code_semantics={
            "c2": {"property": "slant", "spearman": -0.87654, "table": {"slant": 0.8, "width": 0.1}}
        },
        disentanglement={"mig": 0.25, "dci_disentanglement": 0.33333},
        code_factor_mi={"c2": {"scale": 0.41234, "x": 0.02}, "c3": {"scale": 0.01, "x": 0.2}},
        timings={"fid": 1.5},
        brand_new={"score": 7},
        brand_new_scalar=0.333333,
    )
    (run / "eval.json").write_text(json.dumps(metrics))
    page = build_report(run)
    for heading in (
        "Sample quality",
        "What each continuous code controls",
        "Disentanglement",
        "What each code reads (I(code; factor) / H(factor))",
        "Brand new",
    ):
        assert f"<h2>{heading}</h2>" in page
    for text in (
        "12.35",
        "0.001235",
        "digits-cnn",
        "0.9877",
        "slant",
        "-0.8765",
        "mig",
        "0.3333",
        "new_code_score",
        "0.4123",
    ):
        assert text in page
    assert "brand_new_scalar" in page and "1,000" in page
    assert page.index("<h2>Brand new</h2>") < page.index("<h2>Evaluation timings</h2>")


def test_quality_figures_say_which_way_is_better_and_where_real_images_stand(run_dir, tmp_path):
    run = _copy_run(run_dir, tmp_path / "run")
    metrics = json.loads((run / "eval.json").read_text())
    metrics.update(fid=12.5, recall=0.4, baselines={"held_out": {"fid": 1.25, "recall": 0.86}})
    (run / "eval.json").write_text(json.dumps(metrics))
    page = build_report(run)
    assert "<th>real images (the floor)</th><th>what it means</th>" in page
    assert "lower is better, 0 = the same statistics" in page and "higher is better (variety)" in page
    assert "1.25" in page and "0.86" in page


def test_step_ticks_are_few_and_short():
    from infogan.viz.plots import _compact, scalars_figure

    assert [_compact(v, 0) for v in (0, 900, 1000, 1500, 12_000)] == ["0", "900", "1k", "1.5k", "12k"]
    fig = scalars_figure({k: (list(range(0, 5001, 50)), [1.0] * 101) for k in ("a", "b", "c")})
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    ticks = [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    assert 3 <= len(ticks) <= 6 and all(len(t) <= 4 for t in ticks), ticks


@pytest.mark.parametrize("path", ["/tmp", "/nonexistent/run"])
def test_a_path_that_is_not_a_run_is_one_error_line(path):
    result = invoke("report", path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "is not a run directory" in result.stderr or "does not exist" in result.stderr


# --- the page in a browser ---------------------------------------------------------------------------------------


def _chromium(html_path, tmp_path):
    """Screenshot `html_path` in headless Chromium; returns the PNG and the page's console messages."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"chromium not found at {CHROMIUM}; apt-get install chromium")
    png = tmp_path / f"{html_path.stem}.png"
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1200,3000",
        f"--screenshot={png}",
        "--enable-logging=stderr",
        "--v=0",
        html_path.resolve().as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png, [line for line in done.stderr.splitlines() if CONSOLE_LINE.search(line)]


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        ("", "<script>console.error('deliberate page error')</script>", "deliberate page error"),
        (
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<img src="https://example.invalid/x.png">',
            "violates the following Content Security Policy",
        ),
    ],
    ids=["console-error", "external-image"],
)
def test_console_detection_catches_page_problems(tmp_path, head, body, expected):
    page = tmp_path / "broken.html"
    page.write_text(
        f"<!doctype html><html><head>{head}<title>t</title></head><body><h1>x</h1>{body}</body></html>"
    )
    _, console = _chromium(page, tmp_path)
    assert any(expected in line for line in console), console


def test_report_renders_in_chromium_without_console_messages(run_dir, page, tmp_path):
    html_path = tmp_path / "report.html"
    html_path.write_text(page)
    png, console = _chromium(html_path, tmp_path)
    assert console == []
    image = Image.open(png).convert("RGB")
    assert image.size == (1200, 3000)
    colors = image.getcolors(maxcolors=1 << 20) or []
    white = next((count for count, rgb in colors if rgb == (255, 255, 255)), 0)
    assert len(colors) > 200, "the screenshot has almost no distinct colours: a blank page?"
    assert white < 0.95 * image.width * image.height


def test_runs_figure_overlays_one_line_per_run_on_each_quantity():
    from infogan.viz.plots import runs_figure

    curves = {
        "d_fake": {"minimax": ([50, 100], [0.01, 0.02]), "non-saturating": ([50, 100], [0.4, 0.3])},
        "g_grad": {"minimax": ([50, 100], [0.001, 0.002]), "non-saturating": ([50, 100], [4.0, 5.0])},
        "d_loss": {"minimax": ([50], [0.1])},
    }
    fig = runs_figure(curves, columns=2)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["d_fake", "g_grad", "d_loss"]
    assert [len(ax.get_lines()) for ax in shown] == [2, 2, 1]
    assert [t.get_text() for t in shown[0].get_legend().get_texts()] == ["minimax", "non-saturating"]
    assert list(shown[1].get_lines()[1].get_ydata()) == [4.0, 5.0]
