#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the committed text-format samples under sample-traces/.

Deterministic (fixed seed, gzip mtime 0): running it again gives the same
bytes. Every sample tells the same story so golden reports are easy to read:
a workload runs, one tag/cache leaks during it, busy tags churn and drain,
and the trace goes on for a while after the workload ends.

usage: tools/gen-text-samples.py [REPO_ROOT]
"""
import gzip
import io
import os
import random
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "sample-traces")


def write(path, text, crlf=False, gz=False):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode("ascii")
    if gz:
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
            g.write(data)
        data = buf.getvalue()
    with open(full, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- xperf dumper
def xperf_sample():
    rnd = random.Random(4)
    hdr = [
        ("UnknownEvent/Classic", "TimeStamp,     Process Name ( PID),   ThreadID, CPU,  EventGuid, Type, Level, Version, MofLength"),
        ("FirstReliableEventTimeStamp", "TimeStamp"),
        ("P-Start", "TimeStamp,     Process Name ( PID),  ParentPID,  SessionID,  UniqueKey, UserSid, Command Line"),
        ("PoolAlloc", "TimeStamp,     Process Name ( PID),   ThreadID, CPU,       Type,  Tag,  NumberOfBytes,              Entry"),
        ("PoolFree", "TimeStamp,     Process Name ( PID),   ThreadID, CPU,       Type,  Tag,              Entry"),
        ("PoolAllocSession", "TimeStamp,     Process Name ( PID),   ThreadID, CPU,       Type,  Tag,  NumberOfBytes,              Entry, SessionId"),
        ("PoolFreeSession", "TimeStamp,     Process Name ( PID),   ThreadID, CPU,       Type,  Tag,              Entry, SessionId"),
        ("Mark", "TimeStamp,     Process Name ( PID),   ThreadID, Mark"),
    ]
    lines = ["BeginHeader"]
    for name, cols in hdr:
        lines.append("%23s,  %s" % (name, cols))
    lines.append("EndHeader")
    lines.append("%27s, %10d" % ("FirstReliableEventTimeStamp", 0))

    procs = [("System", 4), ("svchost.exe", 1132), ("leakyapp.exe", 5120), ("explorer.exe", 3312)]
    live = {}
    next_addr = [0xFFFFB20C41000000]
    events = []  # (ts_us, text)

    def addr():
        next_addr[0] += rnd.choice([0x40, 0x80, 0x100, 0x240]) * 16
        return next_addr[0]

    def row(kind, ts, proc, tid, cpu, ptype, tag, size=None, entry=0, sess=None):
        p = "%s (%5d)" % proc
        if kind in ("PoolAlloc", "PoolAllocSession"):
            s = "%23s, %10d, %24s, %10d, %3d, %10d, %4s, %14d, 0x%016x" % (kind, ts, p, tid, cpu, ptype, tag, size, entry)
        else:
            s = "%23s, %10d, %24s, %10d, %3d, %10d, %4s, 0x%016x" % (kind, ts, p, tid, cpu, ptype, tag, entry)
        if sess is not None:
            s += ", %9d" % sess
        events.append((ts, s))

    def alloc(ts, tag, ptype, size, proc, sess=None):
        a = addr()
        live[a] = (tag, ptype, size, sess)
        row("PoolAllocSession" if sess is not None else "PoolAlloc", ts, proc,
            rnd.randint(100, 9000), rnd.randint(0, 3), ptype, tag, size, a, sess)
        if rnd.random() < 0.15:
            events.append((ts, "%23s, %10d, %10d, %s, %s, %s" % (
                "Stack", ts, rnd.randint(100, 9000), "ntoskrnl.exe!ExAllocatePool2",
                "leakydrv.sys!LdQueueRequest" if tag == "Leak" else "ntoskrnl.exe!IopAllocateIrpPrivate",
                "ntoskrnl.exe!NtDeviceIoControlFile")))
        return a

    def free(ts, a, proc):
        tag, ptype, size, sess = live.pop(a)
        row("PoolFreeSession" if sess is not None else "PoolFree", ts, proc,
            rnd.randint(100, 9000), rnd.randint(0, 3), ptype, tag, entry=a, sess=sess)

    end_us = 60_000_000
    wstart, wend = 5_000_000, 45_000_000
    events.append((1500, "%23s, %10d, %24s, %10d, %10d, %10s, %s, %s" % (
        "P-Start", 1500, "leakyapp.exe ( 5120)", 3312, 1, "0xffff9e0c", "S-1-5-21-1000", "leakyapp.exe --cycles 400")))
    events.append((wstart, "%23s, %10d, %24s, %10d, %s" % ("Mark", wstart, "xperf.exe ( 6020)", 6024, "workload-start")))
    events.append((wend, "%23s, %10d, %24s, %10d, %s" % ("Mark", wend, "xperf.exe ( 6020)", 6024, "workload-end")))
    busy = [("Irp ", 0, 544), ("MmSt", 1, 2048), ("File", 0, 368), ("Ntfx", 512, 176)]
    pending = []  # (free_ts, addr, proc)
    ts = 1000
    while ts < end_us:
        ts += rnd.randint(40_000, 90_000)
        if ts >= end_us:
            break
        tag, ptype, size = rnd.choice(busy)
        a = alloc(ts, tag, ptype, size, rnd.choice(procs))
        pending.append((ts + rnd.randint(1_000, 400_000), a, rnd.choice(procs)))
        if wstart <= ts < wend:
            # the leak: a 256-byte NonPagedPoolNx block per request, never freed
            if rnd.random() < 0.6:
                alloc(ts + 17, "Leak", 512, 256, procs[2])
            # a cache that grows with the workload and drains after it
            a = alloc(ts + 31, "Strg", 1, 4096, procs[2])
            pending.append((wend + rnd.randint(1_000_000, 10_000_000), a, procs[0]))
        if rnd.random() < 0.1:
            a = alloc(ts + 43, "Gh05", 33, 1024, procs[3], sess=1)
            pending.append((ts + rnd.randint(5_000, 300_000), a, procs[3]))
    for fts, a, proc in pending:
        if fts < end_us:
            free(fts, a, proc)
    events.append((end_us - 2, "%23s, %10d, %24s, %10d, %3d, %s, %s, %s, %s, %s" % (
        "UnknownEvent/Classic", end_us - 2, "System (    4)", 8, 0,
        "{68fdd900-4a3e-11d1-84f4-0000f80464e3}", 8, 0, 2, 0)))
    events.sort(key=lambda e: e[0])
    lines.extend(t for _, t in events)
    write("xperf-pool.txt", "\n".join(lines) + "\n")


def main():
    xperf_sample()


if __name__ == "__main__":
    main()
