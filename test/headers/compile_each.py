#!/usr/bin/env python3
"""Every public header compiles on its own: compiles a one-line translation unit per header
under include/ctgrad/ with -fsyntax-only, so a header that leans on another one's includes
is caught. Usage: compile_each.py <c++ compiler> <include dir> [extra flags...]"""
import concurrent.futures
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

compiler, include_dir, *flags = sys.argv[1:]
root = pathlib.Path(include_dir)
headers = sorted(p.relative_to(root).as_posix() for p in (root / "ctgrad").rglob("*.hpp"))
# Thrust headers need a device system; the OpenMP one compiles without a GPU toolchain.
flags += ["-std=c++20", "-fopenmp", "-DTHRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP", f"-I{include_dir}"]


def mpi_flags():
    """The include flags of Open MPI's compiler wrapper, or None without MPI."""
    wrapper = shutil.which("mpicxx")
    if wrapper is None:
        return None
    result = subprocess.run([wrapper, "--showme:compile"], capture_output=True, text=True)
    return result.stdout.split() if result.returncode == 0 else None


# ctgrad/distributed* includes <mpi.h>, which is not on the default include path.
MPI_FLAGS = mpi_flags()
needs_mpi = lambda header: header.startswith("ctgrad/distributed")  # noqa: E731
skipped = [h for h in headers if needs_mpi(h)] if MPI_FLAGS is None else []
headers = [h for h in headers if h not in skipped]


def compile_alone(header, tmp):
    """The compiler's complaint when <header> does not compile on its own, else None."""
    source = pathlib.Path(tmp) / (header.replace("/", "_") + ".cpp")
    source.write_text(f"#include <{header}>\n")
    # A header that needs the runtime's definitions (ops/fuse.hpp says so with an
    # #error otherwise) is compiled in header-only mode, as its users must.
    needs_runtime = "#if !CTGRAD_RUNTIME_DEFINITIONS" in (root / header).read_text()
    mode = ["-DCTGRAD_HEADER_ONLY"] if needs_runtime else []
    mode += MPI_FLAGS if needs_mpi(header) and MPI_FLAGS else []
    result = subprocess.run([compiler, *flags, *mode, "-fsyntax-only", str(source)], capture_output=True, text=True)
    return None if result.returncode == 0 else result.stderr[:4000]


# One compiler per core: the headers are independent, and this check is otherwise the
# longest test of the suite.
with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
    complaints = dict(zip(headers, pool.map(lambda header: compile_alone(header, tmp), headers)))
failures = [header for header, complaint in complaints.items() if complaint is not None]
for header in failures:
    print(f"--- {header} does not compile alone:\n{complaints[header]}")
print(f"{len(headers) - len(failures)} passed, {len(failures)} failed" +
      (f", {len(skipped)} skipped (no mpicxx to find <mpi.h>: {', '.join(skipped)})" if skipped else ""))
sys.exit(1 if failures else 0)
