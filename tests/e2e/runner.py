#!/usr/bin/env python3
"""Runs evqmail's end-to-end tests (tests/e2e/test_*.py, unittest) and prints
one line `e2e-summary: passed=N failed=M` for tests/run to total."""
import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="build directory holding bin/")
    ap.add_argument("pattern", nargs="?", default="test_*.py")
    args = ap.parse_args()
    os.environ["EVQ_BUILD"] = os.path.abspath(args.build)
    sys.path.insert(0, here)
    suite = unittest.defaultTestLoader.discover(here, pattern=args.pattern, top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    good = result.testsRun - bad - len(result.skipped)
    print(f"e2e-summary: passed={good} failed={bad} skipped={len(result.skipped)}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
