#!/usr/bin/env python3
"""Bytes allocated per request by a JVM's threads, from a JFR recording.

Reads jdk.ThreadAllocationStatistics (cumulative bytes per thread, sampled periodically) and
takes, per thread whose name matches --threads, the growth between the last sample at or before
--from and the first at or after --to (epoch seconds); divided by --requests. With --sites, also
the heaviest allocation sites from jdk.ObjectAllocationSample in that window.
"""
import argparse
import collections
import json
import subprocess
from datetime import datetime


def events(path, name, depth=5):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", str(max(depth, 5)), "--events", name, path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["recording"]["events"]


def when(e):
    return datetime.fromisoformat(e["values"]["startTime"].replace("Z", "+00:00")).timestamp()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("jfr")
    p.add_argument("--from", dest="t0", type=float, required=True)
    p.add_argument("--to", dest="t1", type=float, required=True)
    p.add_argument("--requests", type=int, required=True)
    p.add_argument("--threads", default="IoEventLoop")
    p.add_argument("--sites", type=int, default=0)
    p.add_argument("--depth", type=int, default=3, help="stack frames shown per site")
    a = p.parse_args()

    per = collections.defaultdict(list)
    for e in events(a.jfr, "jdk.ThreadAllocationStatistics"):
        t = e["values"]["thread"]
        name = (t or {}).get("javaName") or ""
        if a.threads in name:
            per[name].append((when(e), e["values"]["allocated"]))
    total = 0
    for samples in per.values():
        samples.sort()
        before = [v for t, v in samples if t <= a.t0]
        after = [v for t, v in samples if t >= a.t1]
        if not after:
            raise SystemExit("no allocation sample after the run: dump the recording later")
        total += after[0] - (before[-1] if before else 0)
    print(f"{total / a.requests:.0f} B allocated per request by {len(per)} '{a.threads}' threads")

    if a.sites:
        sites = collections.Counter()
        weight = 0
        for e in events(a.jfr, "jdk.ObjectAllocationSample", a.depth):
            v = e["values"]
            name = (v.get("eventThread") or {}).get("javaName") or ""
            if a.threads not in name or not (a.t0 <= when(e) <= a.t1):
                continue
            frames = (v.get("stackTrace") or {}).get("frames") or []
            where = " < ".join(f["method"]["type"]["name"].split("/")[-1] + "." + f["method"]["name"]
                               for f in frames[:a.depth])
            sites[v["objectClass"]["name"].split("/")[-1] + " @ " + where] += v["weight"]
            weight += v["weight"]
        for site, w in sites.most_common(a.sites):
            print(f"  {100 * w / max(weight, 1):5.1f}%  {site}")


if __name__ == "__main__":
    main()
