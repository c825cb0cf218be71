#!/usr/bin/env python3
"""Summarise JFR method samples: where threads spend their samples (self and inclusive).

    bench/jfr_top.py [--top 15] [--native] [--thread REGEX] file.jfr [more.jfr ...]

Reads jdk.ExecutionSample (threads running Java code; with --native also jdk.NativeMethodSample:
threads blocked in native code such as a pipe read) through `jfr print --json` and prints, over all
given files: samples per thread (digits in thread names folded to N), the top frames by self samples
(the sampled top frame) and by inclusive samples (the method is anywhere on the stack).
"""

import argparse
import collections
import json
import re
import subprocess
import sys


def frames_of(event):
    out = []
    for f in (event["values"].get("stackTrace") or {}).get("frames", []):
        m = f["method"]
        cls = m["type"]["name"].replace("/", ".")
        out.append(f"{cls}.{m['name']}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--native", action="store_true", help="also jdk.NativeMethodSample")
    ap.add_argument("--thread", help="only threads whose name matches this regex")
    ap.add_argument("--depth", type=int, default=48)
    ap.add_argument("--stacks", type=int, default=0, help="also print the N most common stacks (top 8 frames)")
    ap.add_argument("--self", dest="self_re", help="with --stacks: only samples whose top frame matches this regex")
    a = ap.parse_args()
    events = "jdk.ExecutionSample" + (",jdk.NativeMethodSample" if a.native else "")
    by_thread = collections.Counter()
    self_c = collections.Counter()
    incl_c = collections.Counter()
    stacks = collections.Counter()
    total = 0
    for path in a.files:
        r = subprocess.run(["jfr", "print", "--json", "--stack-depth", str(a.depth), "--events", events, path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"# {path}: {r.stderr.strip()}", file=sys.stderr)
            continue
        for ev in json.loads(r.stdout)["recording"]["events"]:
            v = ev["values"]
            t = v.get("sampledThread") or {}
            name = t.get("javaName") or t.get("osName") or "?"
            if a.thread and not re.search(a.thread, name):
                continue
            fr = frames_of(ev)
            if not fr:
                continue
            kind = "" if ev["type"] == "jdk.ExecutionSample" else " [native]"
            total += 1
            by_thread[re.sub(r"\d+", "N", name) + kind] += 1
            self_c[fr[0] + kind] += 1
            for m in set(fr):
                incl_c[m] += 1
            if a.stacks and (not a.self_re or re.search(a.self_re, fr[0])):
                stacks[" <- ".join(fr[:8])] += 1
    if total == 0:
        print("no samples")
        return
    print(f"samples: {total} ({events}) in {len(a.files)} file(s)")
    print("by thread:")
    for k, n in by_thread.most_common(a.top):
        print(f"  {n:6d} {100 * n / total:5.1f}%  {k}")
    print("top self frames:")
    for k, n in self_c.most_common(a.top):
        print(f"  {n:6d} {100 * n / total:5.1f}%  {k}")
    print("top inclusive methods:")
    for k, n in incl_c.most_common(a.top):
        print(f"  {n:6d} {100 * n / total:5.1f}%  {k}")
    if a.stacks:
        print("top stacks:")
        for k, n in stacks.most_common(a.stacks):
            print(f"  {n:6d} {100 * n / total:5.1f}%  {k}")


if __name__ == "__main__":
    main()
