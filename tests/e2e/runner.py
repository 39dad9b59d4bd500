#!/usr/bin/env python3
"""Runs evqmail's end-to-end tests (tests/e2e/test_*.py, unittest) and prints
one line `e2e-summary: passed=N failed=M skipped=K` for tests/run to total.

  runner.py --build DIR [--mode private|system] [pattern ...]

--mode sets EVQ_MODE for the harness (evq.py): `system` makes every tree a
root-installed system tree. Patterns are module file patterns (default
test_*.py); `module.py:Class` or `module.py:Class.test` runs part of one."""
import argparse
import fnmatch
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))


def load(pattern):
    loader = unittest.defaultTestLoader
    if ":" in pattern:
        mod, name = pattern.split(":", 1)
        return loader.loadTestsFromName(mod[:-3] + "." + name if mod.endswith(".py") else mod + "." + name)
    suite = unittest.TestSuite()
    for f in sorted(os.listdir(here)):
        if f.startswith("test_") and fnmatch.fnmatch(f, pattern):
            suite.addTests(loader.loadTestsFromName(f[:-3]))
    return suite


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="build directory holding bin/")
    ap.add_argument("--mode", choices=("private", "system"), default=os.environ.get("EVQ_MODE", "private"))
    ap.add_argument("patterns", nargs="*", default=["test_*.py"])
    args = ap.parse_args()
    os.environ["EVQ_BUILD"] = os.path.abspath(args.build)
    os.environ["EVQ_MODE"] = args.mode
    sys.path.insert(0, here)
    suite = unittest.TestSuite()
    for p in args.patterns:
        suite.addTests(load(p))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    good = result.testsRun - bad - len(result.skipped)
    print(f"e2e-summary: mode={args.mode} passed={good} failed={bad} skipped={len(result.skipped)}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
