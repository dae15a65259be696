"""What machine a measurement ran on, in one line, for every generated table that holds times.

Virtual machines often report their CPU as a bare "AMD EPYC"; the CPU family number tells
the generations apart (AMD: 0x17 Zen 1 and 2, 0x19 Zen 3 and 4, 0x1A Zen 5), and the flags
say whether AVX-512 is there. Figures from different machines are not comparable; the line
lets a reader see which machine a table is from.

``processor()`` also gives the facts a nominal peak is derived from (benchmarks/speed.py):
the cores, the widest vector instructions and the clock the processor reports.

    python -m booktools.machine     # print the line for this machine
"""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass
from pathlib import Path

AMD_FAMILIES = {23: "Zen 1/Zen 2", 25: "Zen 3/Zen 4", 26: "Zen 5"}


def cpuinfo() -> dict[str, str]:
    """The first processor's entries of /proc/cpuinfo (empty where there is none)."""
    entries: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as file:
            for line in file:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                entries[key.strip()] = value.strip()
    except OSError:
        pass
    return entries


def cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu() -> str:
    """The CPU's name, its generation where the family number tells it, and AVX-512."""
    info = cpuinfo()
    name = info.get("model name") or platform.processor() or platform.machine()
    words = [name]
    if info.get("vendor_id") == "AuthenticAMD" and info.get("cpu family", "").isdigit():
        family = int(info["cpu family"])
        words.append(f"({AMD_FAMILIES.get(family, f'family {family}')})")
    flags = info.get("flags", "").split()
    if flags:
        words.append("with AVX-512" if "avx512f" in flags else "without AVX-512")
    return " ".join(words)


@dataclass(frozen=True)
class Processor:
    """The facts of this machine's processor that a nominal peak is derived from."""

    cores: int  # the cores this process may run on
    vector_bits: int  # the widest vector instructions: 512 (AVX-512), 256 (AVX2), 128
    clock_ghz: float | None  # the clock the processor reports, see clock_source
    clock_source: str

    @property
    def vector_name(self) -> str:
        return {512: "AVX-512", 256: "AVX2"}.get(self.vector_bits, "SSE")


def processor() -> Processor:
    """Read the cores, the vector width and the clock (Linux; elsewhere what is known)."""
    info = cpuinfo()
    flags = set(info.get("flags", "").split())
    if "avx512f" in flags:
        vector_bits = 512
    elif "avx2" in flags:
        vector_bits = 256
    else:
        vector_bits = 128
    # The highest clock the kernel knows of, else the one /proc/cpuinfo shows (under a
    # hypervisor often the nominal clock: a core may run faster when it boosts).
    clock_ghz, source = None, "nothing"
    max_freq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    try:
        clock_ghz, source = int(max_freq.read_text()) / 1e6, "cpuinfo_max_freq"
    except (OSError, ValueError):
        if "cpu MHz" in info:
            clock_ghz, source = float(info["cpu MHz"]) / 1e3, "/proc/cpuinfo"
    return Processor(cores(), vector_bits, clock_ghz, source)


def blas() -> str:
    from threadpoolctl import threadpool_info

    for library in threadpool_info():
        if library["user_api"] == "blas":
            return f"{library['internal_api']} {library['version']} ({library['architecture']} kernel)"
    return "unknown BLAS"


def describe() -> str:
    """One line: the date, the CPU, the cores, the BLAS and the load when measuring began."""
    import numpy as np

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"Measured {datetime.date.today().isoformat()} on {cpu()}, {cores()} cores, "
        f"NumPy {np.__version__} with {blas()}, load average {load:.1f} at the start."
    )


if __name__ == "__main__":
    print(describe())
