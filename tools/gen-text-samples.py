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
        ts += rnd.randint(100_000, 220_000)
        if ts >= end_us:
            break
        if ts < end_us - 500_000:
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
            pending.append((min(ts + rnd.randint(5_000, 300_000), end_us - 1000), a, procs[3]))
    for fts, a, proc in pending:
        if fts < end_us:
            free(fts, a, proc)
    events.append((end_us - 2, "%23s, %10d, %24s, %10d, %3d, %s, %s, %s, %s, %s" % (
        "UnknownEvent/Classic", end_us - 2, "System (    4)", 8, 0,
        "{68fdd900-4a3e-11d1-84f4-0000f80464e3}", 8, 0, 2, 0)))
    events.sort(key=lambda e: e[0])
    lines.extend(t for _, t in events)
    write("xperf-pool.txt", "\n".join(lines) + "\n")


# ---------------------------------------------------------------- ftrace text
def ftrace_sample():
    rnd = random.Random(7)
    procs = [("bash", 2211), ("kworker/u8:3", 187), ("demo-load", 4410), ("sshd", 905), ("<idle>", 0)]
    live = {}
    used = set()
    lines = []
    t0 = 5120.000000

    def ptr():
        while True:
            p = rnd.getrandbits(32) & ~0x3F
            if p and p not in used:
                used.add(p)
                return "%016x" % p

    def emit(ts, proc, ev, payload):
        comm, pid = proc
        cpu = rnd.randint(0, 3)
        flags = rnd.choice([".....", "d..1.", "..s1.", "...1."])
        lines.append((ts, "%16s-%-7d [%03d] %s %12.6f: %s: %s" % (comm, pid, cpu, flags, t0 + ts, ev, payload)))

    def kmalloc(ts, proc, site, req, alloc, gfp="GFP_KERNEL"):
        p = ptr()
        live[p] = ("kmalloc", site)
        emit(ts, proc, "kmalloc", "call_site=%s ptr=%s bytes_req=%d bytes_alloc=%d gfp_flags=%s node=-1 accounted=false" % (site, p, req, alloc, gfp))
        return p

    def cache_alloc(ts, proc, site, cache, req, alloc, gfp="GFP_KERNEL"):
        p = ptr()
        live[p] = ("cache", cache)
        emit(ts, proc, "kmem_cache_alloc", "call_site=%s ptr=%s name=%s bytes_req=%d bytes_alloc=%d gfp_flags=%s node=-1 accounted=false" % (site, p, cache, req, alloc, gfp))
        return p

    def free(ts, proc, p, site):
        kind, what = live.pop(p)
        used.discard(int(p, 16))
        if kind == "kmalloc":
            emit(ts, proc, "kfree", "call_site=%s ptr=%s" % (site, p))
        else:
            emit(ts, proc, "kmem_cache_free", "call_site=%s ptr=%s name=%s" % (site, p, what))

    end = 40.0
    wstart, wend = 2.0, 30.0
    lines.append((wstart, "%16s-%-7d [%03d] %s %12.6f: %s: %s" % ("bash", 2211, 1, ".....", t0 + wstart, "tracing_mark_write", "workload-start")))
    lines.append((wend, "%16s-%-7d [%03d] %s %12.6f: %s: %s" % ("bash", 2211, 1, ".....", t0 + wend, "tracing_mark_write", "workload-end")))
    busy_kmalloc = [("__alloc_skb+0x4e/0x1f0", 256, 512), ("load_elf_phdrs+0x4c/0xb0", 504, 512),
                    ("kernfs_fop_open+0x10e/0x3c0", 96, 96), ("single_open+0x2c/0x90", 32, 32)]
    busy_cache = [("__alloc_skb+0x86/0x1f0", "skbuff_head_cache", 232, 256), ("d_alloc+0x1d/0xa0", "dentry", 192, 192),
                  ("alloc_empty_file+0x53/0xe0", "filp", 256, 256)]
    pending = []
    ts = 0.0
    while True:
        ts += rnd.uniform(0.010, 0.030)
        if ts >= end:
            break
        r = rnd.random()
        if ts > end - 0.5:
            r = 0.9  # tracing is stopped once the last requests settled
        if r < 0.45:
            site, req, alloc = rnd.choice(busy_kmalloc)
            p = kmalloc(ts, rnd.choice(procs), site, req, alloc)
            pending.append((ts + rnd.uniform(0.0005, 0.4), p, "kfree_skb_reason+0x5a/0x130" if "skb" in site else "kfree_link+0x12/0x20"))
        elif r < 0.85:
            site, cache, req, alloc = rnd.choice(busy_cache)
            p = cache_alloc(ts, rnd.choice(procs), site, cache, req, alloc)
            pending.append((ts + rnd.uniform(0.0005, 0.4), p, "__d_free+0x1a/0x30" if cache == "dentry" else "kmem_cache_free_bulk+0x1c/0x40"))
        elif r < 0.93:
            emit(ts, rnd.choice(procs), "sched_switch", "prev_comm=bash prev_pid=2211 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120")
        else:
            emit(ts, procs[3], "kfree", "call_site=security_sk_free+0x1c/0x30 ptr=0000000000000000")
        if wstart <= ts < wend:
            if rnd.random() < 0.35:
                # the leak: one context object per request, freed only on error paths
                p = cache_alloc(ts + 0.000013, procs[2], "demo_submit+0x5c/0x1a0 [demo]", "demo_ctx_cache", 176, 192)
                if rnd.random() < 0.03:
                    pending.append((ts + rnd.uniform(0.001, 0.05), p, "demo_complete+0x88/0x120 [demo]"))
            if rnd.random() < 0.3:
                # buffer heads grow with the workload and are reclaimed afterwards
                p = cache_alloc(ts + 0.000021, procs[1], "alloc_buffer_head+0x21/0x110", "buffer_head", 104, 104, "GFP_NOFS|__GFP_NOFAIL")
                pending.append((wend + rnd.uniform(0.5, 6.0), p, "free_buffer_head+0x21/0x60"))
    for fts, p, site in pending:
        if fts < end:
            free(fts, rnd.choice(procs), p, site)
    lines.sort(key=lambda e: e[0])
    # one per-CPU buffer overflowed for a moment during the workload
    for i, (ts, _) in enumerate(lines):
        if ts > 17.0:
            lines.insert(i, (ts, "CPU:2 [LOST 37 EVENTS]"))
            break
    n = sum(1 for _, t in lines if not t.startswith("CPU:"))
    head = [
        "# tracer: nop",
        "#",
        "# entries-in-buffer/entries-written: %d/%d   #P:4" % (n, n),
        "#",
        "#                                _-----=> irqs-off/BH-disabled",
        "#                               / _----=> need-resched",
        "#                              | / _---=> hardirq/softirq",
        "#                              || / _--=> preempt-depth",
        "#                              ||| / _-=> migrate-disable",
        "#                              |||| /     delay",
        "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
        "#              | |         |   |||||     |         |",
    ]
    write("ftrace-kmem.txt.gz", "\n".join(head + [t for _, t in lines]) + "\n", gz=True)


# ---------------------------------------------------------------- PoolMon
def poolmon_states(n, wend_index, rnd):
    """Counters of every tag at n snapshots taken 30 minutes apart.

    Snapshot 0 is the baseline before the workload; the workload runs until
    snapshot wend_index; the rest is the cool-down.
    """
    # tag, type, allocs at boot, diff at boot, bytes per block, churn per 30 min
    tags = [
        ("Leak", "Nonp", 120, 20, 256, 0), ("Strg", "Paged", 10385, 3727, 85, 900),
        ("CM31", "Paged", 40210, 2810, 1352, 300), ("CM25", "Paged", 3011, 1610, 4096, 40),
        ("MmSt", "Paged", 283112, 6120, 1024, 5200), ("File", "Nonp", 902117, 2410, 368, 21000),
        ("Irp ", "Nonp", 2210458, 310, 544, 48000), ("Ntfx", "Nonp", 312004, 1804, 176, 7000),
        ("Thre", "Nonp", 48021, 1620, 1360, 380), ("Proc", "Nonp", 6012, 212, 2432, 40),
        ("Even", "Nonp", 1201331, 9210, 96, 9000), ("Toke", "Paged", 90321, 1220, 1712, 600),
        ("Se  ", "Paged", 401234, 880, 160, 3000), ("ObNm", "Paged", 50112, 4110, 112, 300),
        ("Wait", "Nonp", 3971107, 30, 281, 15000), ("Io  ", "Nonp", 1021112, 127, 723, 9000),
        ("Ntfs", "Paged", 612210, 2891, 504, 4000), ("NtFs", "Paged", 380012, 5120, 192, 2500),
        ("TcpE", "Nonp", 40232, 96, 1152, 900), ("Gh05", "Paged", 20112, 802, 1024, 150),
    ]
    states = []
    cur = {t[0]: [t[2], t[2] - t[3], t[3]] for t in tags}  # allocs, frees, diff
    for i in range(n):
        snap = []
        for tag, typ, _, base_diff, per, churn in tags:
            a, f, d = cur[tag]
            snap.append((tag, typ, a, f, a - f, (a - f) * per))
        states.append(snap)
        # advance to the next snapshot
        for tag, typ, _, base_diff, per, churn in tags:
            a, f, d = cur[tag]
            work = 0 < i + 1 <= wend_index
            na = churn + rnd.randint(0, churn // 10 + 1) if churn else 0
            if tag == "Leak":
                na = 640 + rnd.randint(0, 40) if work else rnd.randint(0, 2)
                nf = 0 if work else na
            elif tag == "Strg":
                grow = 700 if work else 0
                na += grow
                nf = na - grow if work else max(0, a + na - f - base_diff - rnd.randint(0, 20))
            else:
                # busy tags: many allocations, outstanding count wobbles around its level
                # (back at its level at workload end and at the last snapshot)
                steady = i + 1 in (wend_index, n - 1)
                target = base_diff + (0 if steady else rnd.randint(-(churn // 200) - 2, churn // 200 + 2))
                nf = max(0, min(a + na - f - max(target, 0), a + na - f))
            cur[tag] = [a + na, f + nf, 0]
    return states


def poolmon_rows(snap, parens=None, prev=None, driver=False):
    drivers = {"Leak": "leakydrv.sys", "Strg": "storport.sys", "Ntfx": "ntfs.sys", "Ntfs": "ntfs.sys",
               "NtFs": "ntfs.sys", "TcpE": "tcpip.sys", "Gh05": "win32k.sys"}
    out = []
    pm = {r[0]: r for r in prev} if prev else {}
    for tag, typ, a, f, d, b in sorted(snap, key=lambda r: -r[5]):
        per = b // d if d > 0 else 0
        if parens:
            p = pm.get(tag, (tag, typ, a, f, d, b))
            row = " %-4s %-5s %10d (%4d) %10d (%4d) %8d %9d (%6d) %6d" % (
                tag, typ, a, a - p[2], f, f - p[3], d, b, b - p[5], per)
        else:
            row = " %-4s %-5s %10d %16d %11d %9d %11d" % (tag, typ, a, f, d, b, per)
        if driver:
            row += "  %s" % drivers.get(tag, "nt!")
        out.append(row)
    return out


def poolmon_header(i, rnd):
    return [
        " Memory:16661588K Avail: %7dK  PageFlts:%7d   InRam Krnl:12345K P:234567K" % (9764504 - i * 2300, 2012345 + i * 3107),
        " Commit:%7dK Limit:19145812K Peak:8123456K            Pool N:%6dK P:%6dK" % (7654321 + i * 900, 234567 + i * 160, 456789 + i * 360),
        " System pool information",
    ]


def poolmon_samples():
    rnd = random.Random(11)
    n, wend = 8, 4
    states = poolmon_states(n, wend, rnd)
    # poolmon /n every 30 minutes, one file each, time in the file name
    for i, snap in enumerate(states):
        hh, mm = 10 + i // 2, 30 * (i % 2)
        lines = poolmon_header(i, rnd) + [" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc", ""]
        lines += poolmon_rows(snap)
        write("poolmon/poolsnap_20240501_%02d%02d.log" % (hh, mm), "\n".join(lines) + "\n", crlf=True)

    # screens pasted into Notepad with the time typed or pasted above each
    rnd = random.Random(12)
    states = poolmon_states(6, 3, rnd)
    text = []
    for i, snap in enumerate(states):
        hh, mm = 9 + (i * 30 + 45) // 60, (i * 30 + 45) % 60
        if i % 2 == 0:
            text += ["C:\\tools> date /t", "Wed 05/01/2024", "C:\\tools> time /t",
                     "%02d:%02d %s" % (hh if hh <= 12 else hh - 12, mm, "AM" if hh < 12 else "PM")]
        else:
            text += ["=== 2024-05-01 %02d:%02d:00 ===" % (hh, mm)]
        text += [""] + poolmon_header(i, rnd)
        text += [" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc      Mapped_Driver", ""]
        rows = poolmon_rows(snap, parens=True, prev=states[i - 1] if i else None, driver=True)
        if i == 2:
            # the console was 80 columns wide: one row wrapped when it was copied
            r = rows[1]
            rows[1:2] = [r[:80], r[80:]]
        text += rows + ["", ""]
    write("poolmon-screens.txt", "\n".join(text), crlf=True)


def main():
    xperf_sample()
    ftrace_sample()
    poolmon_samples()


if __name__ == "__main__":
    main()
