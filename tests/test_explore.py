"""infogan explore: the HTTP API over a tiny trained run, bad input (4xx, never 5xx), the host check, generated
requests, and the page in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the explore extra is not installed: pip install -e '.[explore]'")
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from infogan.api import train
from infogan.cli.explore import allowed_hosts, bind
from infogan.config import load_preset
from infogan.explore.server import ABANDONED, create_app, request_keys, unless_abandoned
from infogan.explore.session import load_sessions, same_dials

from .conftest import TINY

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="chromium not found at /usr/bin/chromium; apt-get install chromium"
)


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    made = []
    for name, extra in (("a", []), ("b", ["train.seed=1"])):
        train(
            load_preset("digits", [*TINY, "eval.metrics=[codes,semantics]", *extra]),
            folder / name,
            progress=quiet,
        )
        made.append(folder / name)
    return made


@pytest.fixture(scope="module")
def client(runs):
    return TestClient(create_app(load_sessions(runs, "cpu"), ["testserver", "127.0.0.1"]))


def png(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_the_runs_describe_their_dials_and_facts(client):
    info = client.get("/api/runs").json()
    assert info["side_by_side"] and info["note"] is None
    run = info["runs"][0]
    assert [(c["name"], c["kind"]) for c in run["codes"]] == [
        ("c1", "categorical"),
        ("c2", "uniform"),
        ("c3", "uniform"),
    ]
    assert run["codes"][0]["k"] == 10 and run["codes"][1]["prior"] == [-1.0, 1.0]
    assert "mi_lower_bound" in run["codes"][0] and "controls" in run["codes"][1]  # from eval.json
    assert run["can_infer"] and run["image_shape"] == [1, 8, 8]


def test_an_image_follows_the_dials(client):
    base = png(client.post("/api/image", json={"seed": 3, "codes": {"c1": 2, "c2": -1.5}}))
    assert base.size == (8, 8)
    again = client.post("/api/image", json={"seed": 3, "codes": {"c1": 2, "c2": -1.5}}).content
    moved = client.post("/api/image", json={"seed": 3, "codes": {"c1": 2, "c2": 1.5}}).content
    other = client.post("/api/image", json={"seed": 4, "codes": {"c1": 2, "c2": -1.5}}).content
    assert again == client.post("/api/image", json={"seed": 3, "codes": {"c1": 2, "c2": -1.5}}).content
    assert moved != again and other != again
    raw = client.post("/api/image", json={"seed": 3, "codes": {"c1": 2, "c2": -1.5}, "format": "raw"})
    assert raw.headers["x-shape"] == "8,8" and len(raw.content) == 64
    assert raw.content == base.tobytes()
    assert png(client.post("/api/image", json={"seed": 3, "scale": 4})).size == (32, 32)


def test_a_grid_and_a_gif_of_a_traversal(client):
    grid = png(client.post("/api/grid", json={"code": "c2", "rows": 10, "columns": 5, "scale": 1}))
    width, height = 2 + 5 * 10, 2 + 10 * 10  # 8-pixel images, 2 pixels apart; rows follow c1
    # a margin on the left names the rows (c1=0, ...), a band above names the columns (the values of c2)
    assert grid.size[0] > width and grid.size[1] == height + 16
    noise = png(client.post("/api/grid", json={"code": "c2", "rows_by": None, "rows": 3, "columns": 4}))
    left = noise.size[0] - (2 + 4 * 66)
    assert left > 20 and noise.size[1] == 16 + 2 + 3 * 66  # by default enlarged to 64 pixels, to be read
    labels = noise.crop((0, 0, noise.size[0], 14)).convert("L")
    assert labels.getextrema()[0] < 100  # dark text on the white band
    gif = client.post("/api/grid", json={"code": "c3", "columns": 6, "format": "gif"})
    assert gif.status_code == 200 and gif.headers["content-type"] == "image/gif"
    assert Image.open(io.BytesIO(gif.content)).n_frames == 6 + 4  # there and back


def test_a_drawn_image_is_read_and_rendered(client):
    drawing = Image.new("L", (280, 280), 0)
    drawing.paste(255, (120, 40, 160, 240))  # a white bar on black, like MNIST
    out = io.BytesIO()
    drawing.save(out, format="PNG")
    result = client.post(
        "/api/infer", files={"file": ("d.png", out.getvalue(), "image/png")}, data={"seed": "5"}
    )
    assert result.status_code == 200, result.text
    body = result.json()
    probabilities = body["codes"]["c1"]["probabilities"]
    assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 1e-3
    assert body["values"]["c1"] == body["codes"]["c1"]["category"] == probabilities.index(max(probabilities))
    assert body["rendering"].startswith("data:image/png;base64,") and "c2" in body["values"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "reason"),
    [
        (
            "/api/image",
            {"codes": {"c2": float("inf")}},
            422,
            "codes: Value error, code c2=inf: a code is a finite number",
        ),
        ("/api/image", {"codes": {"c2": 11}}, 422, "within -10..10"),
        ("/api/image", {"codes": {"c1": 10}}, 400, "code c1 is categorical with 10 values"),
        ("/api/image", {"codes": {"c9": 0}}, 400, "unknown code 'c9'"),
        ("/api/image", {"seed": -1}, 422, "seed: Input should be greater than or equal to 0"),
        ("/api/image", {"run": 1, "seed": 2**40}, 422, "seed: Input should be less than or equal to"),
        ("/api/image", {"path": "/etc/passwd"}, 422, "path: Extra inputs are not permitted"),
        ("/api/grid", {"code": "c2", "rows": 33}, 422, "rows: Input should be less than or equal to 32"),
        ("/api/grid", {"code": "c2", "low": 1, "high": -1}, 400, "the range must rise"),
        ("/api/grid", {"code": "c2", "rows_by": "c3"}, 400, "rows cannot follow c3: it is a continuous code"),
    ],
)
def test_bad_requests_are_a_4xx_with_one_line(client, path, payload, status, reason):
    import json

    response = client.post(
        path, content=json.dumps(payload, allow_nan=True), headers={"content-type": "application/json"}
    )
    assert response.status_code == status and reason in response.json()["detail"], response.text
    assert "\n" not in response.json()["detail"]


def test_uploads_that_are_not_images_or_too_large_are_refused(client):
    junk = client.post("/api/infer", files={"file": ("x.png", b"not an image", "image/png")})
    assert junk.status_code == 400 and junk.json()["detail"].startswith(
        "not a valid image: not in any image format"
    )
    assert "BytesIO" not in junk.json()["detail"]
    big = client.post("/api/infer", files={"file": ("x.png", b"0" * 2_000_001, "image/png")})
    assert big.status_code == 413 and "larger than 2,000,000 bytes" in big.json()["detail"]
    bomb = io.BytesIO()
    Image.new("L", (5000, 4000)).save(bomb, format="PNG")  # 20 M pixels in a small file
    response = client.post("/api/infer", files={"file": ("b.png", bomb.getvalue(), "image/png")})
    assert response.status_code == 413 and "pixels" in response.json()["detail"]


def test_a_foreign_host_header_is_refused(client):
    assert client.get("/api/runs", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/runs", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_the_hosts_of_an_ipv6_address_are_bracketed_as_host_headers_carry_them(runs):
    assert allowed_hosts("::1") == ["127.0.0.1", "[::1]", "localhost"]
    app = TestClient(create_app(load_sessions(runs[:1], "cpu"), allowed_hosts("::1")))
    assert app.get("/api/runs", headers={"host": "[::1]:8000"}).status_code == 200
    assert app.get("/api/runs", headers={"host": "evil.example"}).status_code == 400


def test_a_body_over_its_limit_is_refused_before_it_is_read(client):
    huge = client.post("/api/infer", files={"file": ("x.png", b"0" * 3_000_000, "image/png")})
    assert huge.status_code == 413 and "request body is larger than 2,064,000 bytes" in huge.json()["detail"]
    padded = {"seed": 0, "codes": {}, "pad": "x" * 70_000}
    json_body = client.post("/api/image", json=padded)
    assert json_body.status_code == 413 and "larger than 64,000 bytes" in json_body.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'--b\r\ncontent-disposition: form-data; name="file"; filename="x.png"\r\n\r\n'
        for _ in range(40):
            yield b"x" * 100_000

    multipart = {"content-type": "multipart/form-data; boundary=b"}
    streamed = client.post("/api/infer", content=chunks(), headers=multipart)
    assert streamed.status_code == 413 and "larger than 2,064,000" in streamed.json()["detail"]
    assert client.post("/api/image", json={"seed": 1}).status_code == 200  # and the server is fine


def test_a_request_abandoned_while_it_waited_is_not_computed():
    import asyncio

    from fastapi.responses import Response

    computed = []

    def work():
        computed.append(1)
        return Response(b"done")

    async def gone() -> bool:
        return True

    async def here() -> bool:
        return False

    async def both():
        lane = asyncio.Lock()
        return await unless_abandoned(lane, gone, work), await unless_abandoned(lane, here, work)

    dropped, served = asyncio.run(both())
    assert dropped.status_code == ABANDONED and served.body == b"done" and computed == [1]


def test_runs_whose_latents_differ_get_a_note_instead_of_shared_dials(runs, tmp_path):
    train(
        load_preset("digits", [*TINY, "model.latent.codes=[cat:5]", "eval.metrics=[codes]"]),
        tmp_path / "c",
        progress=quiet,
    )
    a, c = load_sessions([runs[0], tmp_path / "c"], "cpu")
    assert "the dials drive the first run only" in (same_dials(a, c) or "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/api/image", "/api/grid"]),
    body=st.dictionaries(
        st.sampled_from([*request_keys(), "x"]),  # every field the API reads, and one it does not
        st.one_of(
            st.integers(min_value=-(2**64), max_value=2**64),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=8),
            st.none(),
            st.dictionaries(
                st.text(max_size=4),
                st.floats(allow_nan=True) | st.integers() | st.text(max_size=3),
                max_size=3,
            ),
            st.lists(st.integers(), max_size=3),
        ),
        max_size=6,
    ),
)
def test_generated_requests_never_get_a_5xx(client, path, body):
    import json

    response = client.post(
        path, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"}
    )
    assert response.status_code < 500, (body, response.text)


def test_connections_to_the_listening_socket_send_without_delay():
    # Without TCP_NODELAY a response's body waits for the client's delayed ACK of its headers: ~40 ms per request.
    import asyncio

    async def accepted_nodelay() -> int:
        seen: list[int] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        sock = bind("127.0.0.1", 0)
        server = await asyncio.start_server(handle, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        while not seen:
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        return seen[0]

    assert asyncio.run(accepted_nodelay()) != 0


# --- the page in a real browser ------------------------------------------------------------------------------------
@contextlib.contextmanager
def serving(run_dirs):
    """The page of `run_dirs` served on a free port of 127.0.0.1; yields its address."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(load_sessions(run_dirs, "cpu"), ["127.0.0.1", "localhost"]), log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def served(runs):
    with serving(runs[:1]) as address:
        yield address


@contextlib.contextmanager
def browser_page():
    """A page of Debian's chromium, driven by Playwright."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser.new_page()
        browser.close()


def changed(page, selector: str, attribute: str, old: str | None, timeout: float = 10.0) -> str:
    """Wait until an attribute differs from `old` (polled from here: the page's content policy forbids the
    evaluated strings of Playwright's wait_for_function)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.get_attribute(selector, attribute)
        if value is not None and value != old:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{selector} {attribute} did not change from {old}")


@needs_chromium
def test_with_two_runs_each_dial_says_what_the_code_means_in_each(runs):
    names = [r.name for r in runs]
    with serving(runs) as address, browser_page() as page:
        page.goto(address)
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        title = page.inner_text("#dial-c2 .name")
        assert all(f"{name}: " in title for name in names), title
        button = page.inner_text("button[data-code=c1][data-value='0']")
        assert button.startswith("0 → ") and " | " in button, button
        assert f"({names[0]} | {names[1]})" in page.inner_text("#dial-c1 .legend")


@needs_chromium
def test_the_page_moves_with_its_dials_and_reads_a_drawing(served):
    errors: list[str] = []
    with browser_page() as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served)
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        first = page.get_attribute("#image-0", "src")
        assert page.is_hidden("#grid-image") and page.is_visible(
            "#grid-hint"
        )  # no broken image before a draw
        assert "the digit it was matched to" in page.inner_text("#dial-c1 .legend")
        page.locator("input[type=range][data-code=c2]").fill("1.5")  # moves the slider, firing input events
        moved = changed(page, "#image-0", "src", first)
        page.click("button[data-code=c1][data-value='4']")
        changed(page, "#image-0", "src", moved)
        assert page.get_attribute("button[data-code=c1][data-value='4']", "class") == "on"
        box = page.locator("#canvas").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 140, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(box["x"] + 140, box["y"] + 240, steps=12)
        page.mouse.up()
        page.click("#read")
        page.wait_for_selector("#inferred .inferred-code[data-code=c1]", timeout=10_000)
        assert page.inner_text("#inferred .inferred-code[data-code=c1]").startswith("c1 = ")
        captions = page.locator("#inferred figcaption").all_inner_texts()
        assert len(captions) == 2 and "as the model reads it (8x8)" in captions[0]
        assert "category → digit" in page.inner_text("#inferred table")
        page.click("#grid-draw")
        assert changed(page, "#grid-image", "src", None).startswith("blob:")
        assert page.is_visible("#grid-image") and page.is_hidden("#grid-hint")
    assert errors == []


def test_explore_refuses_three_runs_and_says_how_to_get_the_extra(runs, monkeypatch):
    from .conftest import invoke

    assert (
        "one run, or two to compare" in invoke("explore", *map(str, [*runs, runs[0]]), "--no-browser").stderr
    )
    import builtins

    real_import = builtins.__import__

    def no_uvicorn(name, *args, **kwargs):
        if name == "uvicorn":
            raise ImportError("No module named 'uvicorn'", name="uvicorn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvicorn)
    result = invoke("explore", str(runs[0]), "--no-browser")
    assert result.returncode == 2 and 'pip install -e ".[explore]"' in result.stderr


@pytest.mark.parametrize(
    ("preset", "overrides", "dials"),
    [
        (
            "gan",
            ["data.name=digits", "model.latent.noise=4", "model.g_hidden=[16]", "model.d_hidden=[16]"],
            [],
        ),
        (
            "cgan",
            ["data.name=mnist-sample", "model.noise=4", "model.backbone=dcgan", "model.width=4"],
            [("c1", "categorical")],
        ),
        (
            "vae",
            ["data.name=digits", "model.latent_dim=12", "model.hidden=[16]"],
            [(f"c{i}", "normal") for i in range(1, 11)],
        ),
    ],
)
def test_every_model_of_the_family_gets_its_dials(tmp_path, preset, overrides, dials):
    from infogan.explore.server import warm_up

    sets = [*overrides, "data.fallback=null", "data.download=false", "train.steps=2", "train.batch_size=8"]
    sets += ["eval.metrics=[codes]", "eval.mi_samples=16", "eval.fid_samples=16", "eval.semantics_draws=4"]
    train(load_preset(preset, sets), tmp_path / preset, progress=quiet)
    sessions = load_sessions([tmp_path / preset], "cpu")
    warm_up(sessions)
    client = TestClient(create_app(sessions, ["testserver"]))
    run = client.get("/api/runs").json()["runs"][0]
    assert [(c["name"], c["kind"]) for c in run["codes"]] == dials
    if preset == "cgan":
        assert run["codes"][0]["role"] == "label"
    if preset == "vae":
        assert run["hidden_codes"] == 2 and run["can_infer"]
    codes = {dials[0][0]: 1} if dials else {}
    assert client.post("/api/image", json={"seed": 2, "codes": codes}).status_code == 200
    drawing = io.BytesIO()
    Image.new("L", (28, 28), 0).save(drawing, format="PNG")
    read = client.post("/api/infer", files={"file": ("d.png", drawing.getvalue(), "image/png")})
    assert read.status_code == (200 if preset == "vae" else 400), read.text
