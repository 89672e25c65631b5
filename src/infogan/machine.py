"""The machine this process runs on, as /proc/cpuinfo describes it: the CPU's name and its feature flags."""

from __future__ import annotations

from pathlib import Path


def _cpuinfo() -> dict[str, str] | None:
    """The first value of each key of /proc/cpuinfo (Linux: the first CPU's), or None where it cannot be read."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    fields: dict[str, str] = {}
    for key, sep, value in (line.partition(":") for line in info.splitlines()):
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags() -> set[str]:
    """The CPU's feature flags (avx2, avx512_bf16, amx_bf16, ...); empty where /proc/cpuinfo is not available."""
    return set((_cpuinfo() or {}).get("flags", "").split())


def cpu_name() -> str:
    """The CPU's model name and its vector extensions that matter for speed (Linux; 'unknown' elsewhere)."""
    info = _cpuinfo()
    if info is None:
        return "unknown"
    flags = set(info.get("flags", "").split())
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return f"{info.get('model name', '?')} ({', '.join(f for f in wanted if f in flags) or 'no AVX2'})"
