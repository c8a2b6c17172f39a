#!/usr/bin/env python3
"""Summarises the jdk.ExecutionSample events of a JFR recording: the methods on top of the
stack (self samples) and the methods anywhere on the stack (total samples), as shares.

    bench/jfr-summary.py recording.jfr [--top N] [--filter io.mproxy] [--threads REGEX]
"""
import argparse
import collections
import re
import subprocess
import sys


def samples(path):
    out = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", path],
                         check=True, capture_output=True, text=True).stdout
    thread, frames, in_stack = None, [], False
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("jdk.ExecutionSample"):
            thread, frames, in_stack = None, [], False
        elif s.startswith("sampledThread"):
            m = re.search(r'"(.*)"', s)
            thread = m.group(1) if m else s
        elif s.startswith("stackTrace = ["):
            in_stack = True
        elif in_stack and s == "]":
            in_stack = False
        elif in_stack and s.startswith("..."):
            pass
        elif in_stack and s:
            m = re.match(r"(.*?)\(.*\)\s+line:", s) or re.match(r"(\S+?)\(", s)
            frames.append(m.group(1) if m else s)
        elif s == "}" and frames:
            yield thread, frames
            frames = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jfr")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--filter", default="", help="only count these methods in the 'total' table")
    ap.add_argument("--threads", default="", help="regex on the sampled thread's name")
    ap.add_argument("--callers", default="", help="also show the first --filter callers of samples whose top frame starts with this")
    a = ap.parse_args()
    selfc, total, callers, n = collections.Counter(), collections.Counter(), collections.Counter(), 0
    for thread, frames in samples(a.jfr):
        if a.threads and not re.search(a.threads, thread or ""):
            continue
        n += 1
        selfc[frames[0]] += 1
        if a.callers and frames[0].startswith(a.callers):
            chain = [f for f in frames[1:] if f.startswith(a.filter)][:3]
            callers[" <- ".join(chain) or "(no caller matches --filter)"] += 1
        for f in set(frames):
            if f.startswith(a.filter):
                total[f] += 1
    if n == 0:
        sys.exit("no execution samples matched")
    print(f"{n} samples")
    print("\nself (top of stack):")
    for f, c in selfc.most_common(a.top):
        print(f"  {100.0 * c / n:5.1f}%  {f}")
    print(f"\ntotal (anywhere on the stack{', ' + a.filter + '*' if a.filter else ''}):")
    for f, c in total.most_common(a.top):
        print(f"  {100.0 * c / n:5.1f}%  {f}")
    if a.callers:
        print(f"\ncallers of {a.callers}*:")
        for f, c in callers.most_common(a.top):
            print(f"  {100.0 * c / n:5.1f}%  {f}")


if __name__ == "__main__":
    main()
