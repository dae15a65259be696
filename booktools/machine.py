"""The machine a measurement ran on, as the footer of a generated table names it.

Timings differ from machine to machine, so every table that the benchmarks write into the
book (docs/generated/) says where it was measured: the CPU's name, its family and, where
this module knows it, its microarchitecture, the cores this process may use, the widest
vector instructions, the clock the processor reports and the BLAS library NumPy calls.

    python -m booktools.machine     # print the description of this machine
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

# CPU families of AMD's Zen cores (the "cpu family" of /proc/cpuinfo).
AMD_FAMILIES = {23: "Zen 1 or Zen 2", 25: "Zen 3 or Zen 4", 26: "Zen 5"}


@dataclass(frozen=True)
class CPU:
    """What /proc/cpuinfo and the scheduler say about this machine's processor."""

    model: str
    vendor: str
    family: int | None
    cores: int  # the cores this process may run on
    vector_bits: int  # the widest vector instructions: 512 (AVX-512), 256 (AVX2), 128
    clock_ghz: float | None  # the clock the processor reports, see clock_source
    clock_source: str

    @property
    def microarchitecture(self) -> str | None:
        if self.vendor == "AuthenticAMD" and self.family is not None:
            return AMD_FAMILIES.get(self.family)
        return None

    @property
    def vector_name(self) -> str:
        return {512: "AVX-512", 256: "AVX2"}.get(self.vector_bits, "SSE")

    def describe(self) -> str:
        """One line, such as ``AMD EPYC (family 26, Zen 5), 2 cores, AVX-512, 2.70 GHz``."""
        details = []
        if self.family is not None:
            details.append(f"family {self.family}")
        if self.microarchitecture:
            details.append(self.microarchitecture)
        name = f"{self.model} ({', '.join(details)})" if details else self.model
        clock = "" if self.clock_ghz is None else f", {self.clock_ghz:.2f} GHz reported"
        return f"{name}, {self.cores} cores, {self.vector_name}{clock}"


def _cpuinfo() -> dict[str, str]:
    """The first processor's entries of /proc/cpuinfo (empty where there is none)."""
    entries: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return entries
    for line in text.splitlines():
        if not line.strip():
            if entries:
                break
            continue
        key, _, value = line.partition(":")
        entries.setdefault(key.strip(), value.strip())
    return entries


def usable_cores() -> int:
    """The cores this process may run on (its affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu() -> CPU:
    """Read this machine's processor (Linux; elsewhere the name and the core count)."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    if "avx512f" in flags:
        vector_bits = 512
    elif "avx2" in flags:
        vector_bits = 256
    else:
        vector_bits = 128
    family = info.get("cpu family")
    # The highest clock the kernel knows of, else the one /proc/cpuinfo shows (under a
    # hypervisor often the nominal clock: a core may run faster when it boosts).
    clock_ghz, source = None, "unknown"
    max_freq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    try:
        clock_ghz, source = int(max_freq.read_text()) / 1e6, "cpuinfo_max_freq"
    except (OSError, ValueError):
        if "cpu MHz" in info:
            clock_ghz, source = float(info["cpu MHz"]) / 1e3, "/proc/cpuinfo"
    return CPU(
        model=info.get("model name") or platform.processor() or platform.machine(),
        vendor=info.get("vendor_id", ""),
        family=int(family) if family and family.isdigit() else None,
        cores=usable_cores(),
        vector_bits=vector_bits,
        clock_ghz=clock_ghz,
        clock_source=source,
    )


def blas() -> str:
    """The BLAS library NumPy calls, such as ``openblas 0.3.31 (Haswell kernels)``."""
    from threadpoolctl import threadpool_info

    for library in threadpool_info():
        if library["user_api"] == "blas":
            kernels = library.get("architecture")
            where = f" ({kernels} kernels)" if kernels else ""
            return f"{library['internal_api']} {library['version']}{where}"
    return "an unknown BLAS"


def describe() -> str:
    """The machine and the numerical libraries, for a table's footer."""
    import numpy as np

    return f"{cpu().describe()}; NumPy {np.__version__} with {blas()}"


if __name__ == "__main__":
    print(describe())
