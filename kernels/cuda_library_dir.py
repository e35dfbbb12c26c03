#!/usr/bin/env python3
"""Prints the directory holding the CUDA toolkit's libcudart.so and libcublas.so for the nvcc
given as the first argument, or nothing (exit 1) when none is found.

nvcc is not always the toolkit's own binary: a machine may put a wrapper script such as
/usr/local/bin/nvcc on PATH, so the toolkit cannot be found from nvcc's path alone. nvcc itself
knows where it is: `nvcc --dryrun -v` prints the -L directories it would link with."""
import os
import shlex
import subprocess
import sys

WANTED = ("libcudart.so", "libcublas.so")


def has_libraries(directory):
    return all(os.path.exists(os.path.join(directory, name)) for name in WANTED)


def candidates(nvcc):
    try:
        dryrun = subprocess.run([nvcc, "--dryrun", "-v", "-c", "probe.cu", "-o", "probe.o"],
                                capture_output=True, text=True, timeout=60)
        for line in (dryrun.stdout + dryrun.stderr).splitlines():
            if line.startswith("#$ LIBRARIES="):
                for word in shlex.split(line.split("=", 1)[1]):
                    if word.startswith("-L"):
                        yield os.path.realpath(word[2:])
    except (OSError, subprocess.SubprocessError):
        pass
    # The layouts nvcc's own directory implies, then the conventional places.
    toolkit = os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))
    yield os.path.join(toolkit, "lib64")
    for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root:
            yield os.path.realpath(os.path.join(root, "lib64"))


def main():
    for directory in candidates(sys.argv[1]):
        if not directory.endswith("/stubs") and has_libraries(directory):
            print(directory)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
