#!/usr/bin/env python3
"""Runs a command, passes its output through, and exits 0 only if the command
exited with status 1 exactly. attnc reports bad input with status 1; a crash,
an abort (134), a signal or a sanitizer's own exit code must fail the test,
which lit's `not` would accept."""
import subprocess
import sys

if len(sys.argv) < 2:
    sys.exit("usage: exit1.py command [args...]")
result = subprocess.run(sys.argv[1:])
if result.returncode != 1:
    sys.stderr.write(f"exit1.py: expected exit status 1, got {result.returncode}\n")
    sys.exit(1)
sys.exit(0)
