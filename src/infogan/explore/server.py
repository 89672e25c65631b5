"""The explorer's HTTP API and its one static page (FastAPI, served by uvicorn).

Endpoints: `GET /` (the page), `GET /api/runs` (the dials and facts of each run), `POST /api/image` (one image for
a setting of the dials), `POST /api/grid` (a traversal grid, PNG or animated GIF), `POST /api/infer` (the codes read
off an uploaded image, and G's rendering of them). Images are PNG (`format=raw` gives the pixels as bytes instead,
with the shape in headers). Every parameter is bounded; a bad one is a 4xx with a one-line reason. Only the runs
named on the command line are served, and no request names a path.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Annotated, Any, Literal

import torch
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from torch import Tensor

from infogan.errors import ConfigError
from infogan.explore.session import CODE_LIMIT, MAX_GRID, SEED_LIMIT, Session, same_dials
from infogan.images import unreadable_reason
from infogan.viz.grids import grid_picture, readable_scale

# Uploads for `infer`: at most this many bytes, and this many pixels once decoded.
MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOAD_PIXELS = 4096 * 4096
# Request bodies: an upload and its multipart framing for `infer`, a few kilobytes of JSON for the others. A larger
# body is refused as it arrives (by its Content-Length, or once that many bytes came without one), before any of
# it is parsed or spooled to disk.
MAX_BODY_BYTES = {"/api/infer": MAX_UPLOAD_BYTES + 64_000}
MAX_JSON_BYTES = 64_000
STATIC = ("index.html", "app.js", "style.css")
_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
}

Seed = Annotated[int, Field(ge=0, le=SEED_LIMIT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dials(Strict):
    """A setting of the dials: which run, the noise's seed and the codes fixed (the others drawn from the seed)."""

    run: int = Field(0, ge=0, le=1)
    seed: Seed = 0
    codes: dict[str, float] = Field(default_factory=dict, max_length=64)

    @field_validator("codes")
    @classmethod
    def _finite_and_bounded(cls, codes: dict[str, float]) -> dict[str, float]:
        for name, value in codes.items():
            if not math.isfinite(value) or abs(value) > CODE_LIMIT:
                raise ValueError(
                    f"code {name}={value:g}: a code is a finite number within -{CODE_LIMIT:g}..{CODE_LIMIT:g} "
                    "(a categorical code's value is its category, 0..K-1)"
                )
        return codes


class ImageRequest(Dials):
    format: Literal["png", "raw"] = "png"
    scale: int = Field(1, ge=1, le=16)


class GridRequest(Dials):
    code: str = Field(..., max_length=32)
    rows_by: str | None = Field("auto", max_length=32)  # a categorical code, "auto", or null: noise draws
    rows: int = Field(10, ge=1, le=MAX_GRID)
    columns: int = Field(10, ge=2, le=MAX_GRID)
    low: float = Field(-2.0, ge=-CODE_LIMIT, le=CODE_LIMIT)
    high: float = Field(2.0, ge=-CODE_LIMIT, le=CODE_LIMIT)
    format: Literal["png", "gif"] = "png"
    scale: int | None = Field(None, ge=1, le=8)  # None: small images enlarged to a readable size


def request_keys() -> list[str]:
    """The JSON fields the image and grid endpoints read (for fuzzing them)."""
    return sorted(set(ImageRequest.model_fields) | set(GridRequest.model_fields))


def warm_up(sessions: list[Session]) -> None:
    """One image and one small grid per run, so that the first request a user makes does not also pay for
    imports (torchvision's grid) and first-call allocations (about 3 s on a 2-core CPU)."""
    for s in sessions:
        _png(s.image(0, {}))
        first = s.model.latent.codes[0].name if s.model.latent.codes else None
        if first is not None:
            images, row_labels, column_labels = s.grid(
                first, seed=0, codes={}, columns=2, rows=2, value_range=(-1, 1), rows_by=None
            )
            _png_picture(grid_picture(images, 2, row_labels=row_labels, column_labels=column_labels))


def create_app(sessions: list[Session], allowed_hosts: list[str]) -> FastAPI:
    """The app serving `sessions` (one run, or two driven by the same dials); requests whose Host header is not
    one of `allowed_hosts` are refused (DNS rebinding)."""
    app = FastAPI(title="infogan explore", version="1", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    note = same_dials(sessions[0], sessions[1]) if len(sessions) > 1 else None
    lane = asyncio.Lock()  # one image or grid computed at a time, in order of arrival

    def session(index: int) -> Session:
        if index >= len(sessions):
            raise HTTPException(404, f"there is no run {index}: this explorer serves {len(sessions)}")
        return sessions[index]

    @app.exception_handler(RequestValidationError)
    async def _one_line(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {"detail": f"{where}: {first['msg']}" if where else first["msg"]}, status_code=422
        )

    @app.exception_handler(ConfigError)
    async def _config_error(request: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> Response:
        return _static("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        return _static(name)

    @app.get("/api/runs")
    def runs() -> dict[str, Any]:
        """The runs served: their dials and measured facts, and whether one setting drives both."""
        return {"runs": [s.describe() for s in sessions], "side_by_side": len(sessions) > 1, "note": note}

    @app.post("/api/image", responses={200: {"content": {"image/png": {}}}})
    async def image(request: ImageRequest, connection: Request) -> Response:
        """One image for the dials."""
        s = session(request.run)

        def render() -> Response:
            return _image_response(s.image(request.seed, request.codes), request.format, request.scale)

        return await unless_abandoned(lane, connection.is_disconnected, render)

    @app.post("/api/grid", responses={200: {"content": {"image/png": {}, "image/gif": {}}}})
    async def grid(request: GridRequest, connection: Request) -> Response:
        """A traversal grid of one code (PNG), or the traversal as an animated GIF, one frame per column."""
        return await unless_abandoned(lane, connection.is_disconnected, lambda: _grid(request))

    def _grid(request: GridRequest) -> Response:
        s = session(request.run)
        if request.low >= request.high:
            raise HTTPException(
                400, f"the range must rise: low {request.low:g} is not below high {request.high:g}"
            )
        rows_by = request.rows_by
        if rows_by == "auto":
            others = [c.name for c in s.model.latent.categorical if c.name != request.code]
            rows_by = others[0] if others else None
        images, row_labels, column_labels = s.grid(
            request.code,
            seed=request.seed,
            codes=request.codes,
            columns=request.columns,
            rows=request.rows,
            value_range=(request.low, request.high),
            rows_by=rows_by,
        )
        scale = readable_scale(images.shape[-1]) if request.scale is None else request.scale
        columns = len(column_labels)
        if request.format == "gif":
            return Response(_gif(images, columns, scale), media_type="image/gif")
        picture = grid_picture(
            images, columns, scale=scale, row_labels=row_labels, column_labels=column_labels
        )
        return Response(_png_picture(picture), media_type="image/png")

    @app.post("/api/infer")
    async def infer(
        file: Annotated[UploadFile, File(description="an image (PNG, JPEG, ...), at most 2 MB")],
        run: Annotated[int, Form(ge=0, le=1)] = 0,
        seed: Annotated[int, Form(ge=0, le=SEED_LIMIT)] = 0,
    ) -> dict[str, Any]:
        """The codes Q (or the VAE's encoder) reads off an uploaded image, and G's rendering of them."""
        s = session(run)
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"the image is larger than {MAX_UPLOAD_BYTES:,} bytes")
        x = decode_image(data, s.model.image_shape)
        result = s.infer(x, seed)
        return {
            "codes": result["codes"],
            "values": result["values"],
            "input": _data_uri(_png(x)),
            "rendering": _data_uri(_png(result["rendering"])),
        }

    return app


# The status of a response nobody reads: the client closed the connection before its request was computed.
ABANDONED = 499


async def unless_abandoned(
    lane: asyncio.Lock, disconnected: Callable[[], Awaitable[bool]], work: Callable[[], Response]
) -> Response:
    """`work` run in a worker thread once the lane is free, unless the client has gone by then. A page dragging a
    slider aborts each request it no longer needs; those waiting behind the one being computed are dropped here
    instead of computed in turn, so the image keeps up with the slider."""
    async with lane:
        if await disconnected():
            return Response(status_code=ABANDONED)
        return await run_in_threadpool(work)


class BodyLimit:
    """Refuses a request body larger than its endpoint's limit (`MAX_BODY_BYTES`, else `MAX_JSON_BYTES`) with a
    413: from its Content-Length before the app runs or, without one, as soon as more bytes than that have arrived,
    by raising `_TooLarge` in the app's read of the body, which the app answers as the HTTPException it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_BODY_BYTES.get(scope["path"], MAX_JSON_BYTES)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        await self.app(scope, limited, send)


class _TooLarge(HTTPException):
    """An HTTPException, so that a body parser which wraps other errors in a 400 lets this one through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large_detail(limit))


def _too_large_detail(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes"


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _too_large_detail(limit)}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- images ----------------------------------------------------------------------------------------------------------
def decode_image(data: bytes, shape: tuple[int, int, int]) -> Tensor:
    """An uploaded image as the model's input (C, H, W) in [-1, 1]: decoded by Pillow with its bomb check, converted
    to the run's channels and resized to its size (a drawing on a white canvas is inverted to MNIST's white on
    black when its border is light). A file that is not an image, or too large, is a 4xx."""
    from PIL import Image

    channels, height, width = shape
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_UPLOAD_PIXELS:
                raise HTTPException(413, f"the image has more than {MAX_UPLOAD_PIXELS:,} pixels")
            picture = opened.convert("L" if channels == 1 else "RGB").resize(
                (width, height), Image.Resampling.BILINEAR
            )
            array = torch.frombuffer(bytearray(picture.tobytes()), dtype=torch.uint8)
    except HTTPException:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise HTTPException(400, f"not a valid image: {unreadable_reason(exc)}") from None
    x = array.view(height, width, channels).permute(2, 0, 1).float() / 255  # (C, H, W) in [0, 1]
    border = torch.cat([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], dim=1)
    if channels == 1 and float(border.mean()) > 0.5:  # dark strokes on light paper
        x = 1 - x
    return x * 2 - 1


def _pixels(x: Tensor) -> Any:
    """(C, H, W) in [-1, 1] as a uint8 (H, W[, C]) array."""
    unit = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return unit[0].numpy() if unit.shape[0] == 1 else unit.permute(1, 2, 0).numpy()


def _png(x: Tensor, scale: int = 1) -> bytes:
    from PIL import Image

    picture = Image.fromarray(_pixels(x))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    return _png_picture(picture)


def _png_picture(picture: Any) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)  # speed over size: these images are small
    return out.getvalue()


def _image_response(x: Tensor, fmt: str, scale: int) -> Response:
    if fmt == "raw":
        pixels = _pixels(x)
        headers = {"X-Shape": ",".join(map(str, pixels.shape))}
        return Response(pixels.tobytes(), media_type="application/octet-stream", headers=headers)
    return Response(_png(x, scale), media_type="image/png")


def _tile(images: Tensor, columns: int) -> Tensor:
    """(N, C, H, W) as one (C, H', W') grid with 2 pixels of white between images, in [-1, 1]."""
    from torchvision.utils import make_grid

    return make_grid(images, nrow=columns, padding=2, pad_value=1.0)


def _gif(images: Tensor, columns: int, scale: int) -> bytes:
    """The traversal as an animation: frame j is column j of every row."""
    from PIL import Image

    rows = images.shape[0] // columns
    frames = []
    for j in range(columns):
        column = images[j::columns][:rows]
        picture = Image.fromarray(_pixels(_tile(column, 1 if rows == 1 else min(rows, 10))))
        if scale > 1:
            picture = picture.resize(
                (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
            )
        frames.append(picture.convert("P"))
    out = io.BytesIO()
    frames[0].save(
        out, format="GIF", save_all=True, append_images=[*frames[1:], *frames[-2:0:-1]], duration=120, loop=0
    )
    return out.getvalue()


def _data_uri(png: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _static(name: str) -> Response:
    text = (resources.files("infogan.explore") / "static" / name).read_text()
    return Response(text, media_type=_TYPES[name.rsplit(".", 1)[1]])
