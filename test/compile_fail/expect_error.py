#!/usr/bin/env python3
"""Compile-fail harness for meson tests registered with `should_fail: true`.

    expect_error.py <compiler> <expected-substring>... -- <compile args...>
    expect_error.py --expect-success <compiler> -- <compile args...>

Exit status, read by meson (mesonbuild/mtest.py, 1.0: 99 is ERROR whatever should_fail says,
and should_fail only turns OK into UNEXPECTEDPASS and FAIL into EXPECTEDFAIL):
  0  the file compiled                       -> under should_fail: the test FAILS
  1  it failed, and every expected substring
     is in the compiler's output             -> under should_fail: the test PASSES
  99 it failed for another reason (a substring is missing, the compiler could not run, this
     script broke): an ERROR, so a compile-fail test cannot pass for the wrong reason.
With --expect-success (a positive control, registered without should_fail): 0 when the file
compiles, 1 (FAIL) when it does not.
"""
import os
import subprocess
import sys

ERROR = 99


def main(argv):
    expect_success = argv[:1] == ['--expect-success']
    if expect_success:
        argv = argv[1:]
    if '--' not in argv or argv.index('--') < 1:
        print(__doc__, file=sys.stderr)
        return ERROR
    split = argv.index('--')
    compiler, expected, args = argv[0], argv[1:split], argv[split + 1:]
    if expect_success == bool(expected):
        print('give expected substrings for a compile-fail test, none with --expect-success', file=sys.stderr)
        return ERROR

    # Plain ASCII, uncoloured diagnostics, so the substrings match whatever the terminal is.
    env = dict(os.environ, LC_ALL='C', LANG='C', GCC_COLORS='')
    cmd = [compiler, '-fsyntax-only', '-fdiagnostics-color=never', *args]
    print(' '.join(cmd))
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    except OSError as e:
        print(f'cannot run the compiler: {e}')
        return ERROR
    output = proc.stdout.decode('utf-8', errors='replace')

    if expect_success:
        if proc.returncode != 0:
            print(output)
            print('FAIL: the positive control does not compile: the harness flags are wrong')
            return 1
        print('ok: compiled')
        return 0
    if proc.returncode == 0:
        print('FAIL: the file compiled, but it must be rejected')
        return 0
    missing = [s for s in expected if s not in output]
    if missing:
        print(output)
        for s in missing:
            print(f'ERROR: compilation failed, but the output lacks: {s!r}')
        return ERROR
    print('ok: rejected with ' + ', '.join(repr(s) for s in expected))
    return 1


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # a crash must not read as an expected failure (exit 1)
        print(f'expect_error.py crashed: {e!r}', file=sys.stderr)
        sys.exit(ERROR)
