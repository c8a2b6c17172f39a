#!/usr/bin/env python3
"""Shares of an async-profiler collapsed-stack profile of the mproxy daemon, by component.

    bench/profile-components.py /tmp/pg-simple.collapsed

Each sample counts for one component: on an event-loop thread, the system call it is in (a native
leaf frame: writev/send, recv, epoll_wait), else the innermost mproxy or Netty component on its
stack; off the event loops, the JIT compiler, GC, JFR or the rest. Used for the profile table in
docs/performance.md ("PostgreSQL CPU per transaction"); the buckets are coarse on purpose.
"""
import collections
import sys

WRITE = ("writev", "__GI___writev", "send", "__GI___send", "__libc_send", "sendto", "write", "__GI___libc_write")
READ = ("recv", "__libc_recv", "recvfrom", "read", "__GI_read")


def component(frames):
    if not any("SingleThreadIoEventLoop.run" in f for f in frames):
        if any("CompileBroker" in f for f in frames):
            return "other threads: JIT compiler"
        if any("G1" in f or "GC" in f for f in frames[:4]):
            return "other threads: GC"
        if any("Jfr" in f for f in frames):
            return "other threads: JFR"
        return "other threads: rest"
    leaf = frames[-1]
    if leaf.startswith("epoll"):
        return "event loop: system calls (epoll_wait)"
    if leaf in WRITE:
        return "event loop: system calls (write)"
    if leaf in READ:
        return "event loop: system calls (read)"
    for f in reversed(frames):
        if "micrometer" in f or "server/metrics" in f or "core/telemetry" in f:
            return "event loop: metrics/telemetry"
        if "ResourceLeak" in f:
            return "event loop: Netty leak detector"
        if "io/mproxy/core/sql" in f or "core/hint" in f:
            return "event loop: SQL fingerprint/classify/hints"
        if "io/mproxy/core/admission" in f or "core/request" in f or "core/fingerprint" in f:
            return "event loop: admission"
        if "io/mproxy/core/pool" in f or "core/cluster" in f or "core/balance" in f:
            return "event loop: pool/cluster/balance"
        if "io/mproxy/protocol/" in f:
            return "event loop: protocol session and codec"
        if "io/netty" in f:
            return "event loop: Netty (pipeline, buffers, flush)"
    return "event loop: JVM/other"


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    total = 0
    shares = collections.Counter()
    with open(sys.argv[1]) as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            total += int(n)
            shares[component(stack.split(";"))] += int(n)
    print(f"{total} samples")
    for name, n in sorted(shares.items()):
        print(f"{100 * n / max(total, 1):5.1f}%  {name}")


if __name__ == "__main__":
    main()
