"""`infogan explore`: a local web page with dials for a trained run's codes (and a second run side by side)."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.errors import ConfigError
from infogan.progress import progress_to_stderr

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def allowed_hosts(host: str) -> list[str]:
    """The Host headers a request may carry: the bound address and the names of this machine that reach it. Any
    other is refused, so a page on another site cannot reach the explorer through a rebound DNS name."""
    names = {host, "127.0.0.1", "localhost"} if host in LOOPBACK else {host}
    if host in ("0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", socket.gethostname(), socket.getfqdn()}
        with contextlib.suppress(OSError):
            names |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    # a Host header carries an IPv6 address in brackets ("[::1]:8000"), and is compared with them
    return sorted(f"[{n}]" if ":" in str(n) else str(n) for n in names)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), or one line saying why not."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio then sets TCP_NODELAY on each connection (it checks the protocol), so
    # a response's headers and body leave at once instead of waiting ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


@app.command(short_help="Explore runs in the browser: a dial per code, drawings read by Q.")
def explore(
    runs: list[Path] = typer.Argument(
        ..., metavar="RUN...", help="A run directory (or a checkpoint in one); a second to compare."
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; other than this machine: a warning."
    ),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port [default: 0, a free one]."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the URL only; do not open a browser."),
) -> None:
    """Serve a page with a dial for every latent code of RUN (buttons for categorical codes, sliders for continuous
    ones, the noise as a seed), the image updating as they move; the paper's traversal grid (PNG, or a GIF); a
    canvas to draw or drop an image that Q reads; and what was measured of each code. With two runs, the same dials
    drive both. Needs the explore extra: pip install -e ".[explore]". Ctrl-C stops it."""
    if len(runs) > 2:
        raise ConfigError(f"explore takes one run, or two to compare; got {len(runs)}")
    try:
        import uvicorn

        from infogan.explore.server import create_app
    except ImportError as exc:
        raise ConfigError(
            f'infogan explore needs FastAPI and uvicorn ({exc.name} is missing): pip install -e ".[explore]"'
        ) from None
    from infogan.explore.session import load_sessions

    sessions = load_sessions(list(runs), device)
    from infogan.explore.server import warm_up

    warm_up(sessions)
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{bound_port}/"
    if host not in LOOPBACK:
        progress_to_stderr(
            f"warning: listening on {host}: anyone who can reach this machine on port {bound_port} can use the "
            "explorer (it serves only the runs named here, and reads or writes no file a request names)"
        )
    progress_to_stderr(f"explore: {', '.join(s.name for s in sessions)} at {url} (Ctrl-C stops it)")
    if not no_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(
        create_app(sessions, allowed_hosts(host)), log_level="warning", access_log=False, lifespan="off"
    )
    uvicorn.Server(config).run(sockets=[sock])
