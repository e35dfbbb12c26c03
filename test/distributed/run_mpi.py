#!/usr/bin/env python3
"""Runs a program as an MPI job on this machine, for meson's tests and the examples.

usage: run_mpi.py [--np N] [--timeout S] PROGRAM [ARGUMENTS...]
       run_mpi.py --skip REASON       (reports a skip: meson registers this when MPI was not
                                       found at configure time)

Starts N ranks (default 2) with Open MPI's mpirun over shared memory (one machine), and exits
with mpirun's status. Exits 77, which meson reads as "skipped", when mpirun is missing.
The flags make it work where CI runs it: as root in a container (--allow-run-as-root), on fewer
cores than ranks (--oversubscribe, --bind-to none), without a network or InfiniBand (the ob1
messaging layer over the self and vader transports only, so no UCX or TCP probing), and where
the kernel forbids one process to read another's memory (vader's single-copy mechanism, CMA,
off: messages are copied through shared memory instead). --timeout makes mpirun end a job that
hangs, before meson's own timeout, and say so.
"""
import os
import pathlib
import shutil
import subprocess
import sys

SKIPPED = 77
HERE = pathlib.Path(__file__).resolve().parent


def main(argv):
    if argv[:1] == ["--skip"]:
        print("SKIP:", " ".join(argv[1:]))
        return SKIPPED
    ranks, timeout = "2", "240"
    while argv and argv[0] in ("--np", "--timeout"):
        if argv[0] == "--np":
            ranks = argv[1]
        else:
            timeout = argv[1]
        argv = argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        print("SKIP: mpirun was not found on PATH (Debian: apt install openmpi-bin libopenmpi-dev)")
        return SKIPPED

    env = dict(os.environ)
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    # Open MPI keeps what MPI_Init allocates until the process ends (its plugins, hwloc's
    # topology, PMIx's tables), which LeakSanitizer reports as leaks outside ctgrad. Those
    # libraries' allocations are suppressed (lsan_mpi.supp); leaks in ctgrad's code and the
    # tests' still fail a sanitizer build. A suppression matches a frame of the allocation's
    # stack, and Debian's Open MPI is built without frame pointers: ASan's fast unwinder stops
    # at its first frame and names the wrong library, so the stacks are unwound from DWARF
    # (fast_unwind_on_malloc=0: slower allocations, for this job only). Both settings are
    # ignored by a build without the sanitizers.
    def append(variable, options):
        env[variable] = f"{env[variable]}:{options}" if env.get(variable) else options
    append("LSAN_OPTIONS", f"suppressions={HERE / 'lsan_mpi.supp'}:print_suppressions=0")
    append("ASAN_OPTIONS", "fast_unwind_on_malloc=0")

    command = [mpirun, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
               "--mca", "pml", "ob1", "--mca", "btl", "self,vader", "--timeout", timeout,
               "-np", ranks] + argv
    sys.stdout.flush()
    return subprocess.run(command, env=env, stdin=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
