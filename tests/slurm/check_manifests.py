#!/usr/bin/env python3
"""Checks a Slurm run's manifest.json against a single-machine run's (equal but for "shards")
and its shard records (shard i of N computed exactly chunks i, i+N, ...).

    check_manifests.py DIR_LOCAL DIR_SLURM N

Prints one `PROBLEM: ...` line per disagreement; exit 1 if there is any.
"""
import json, os, sys

local, slurm, shards = sys.argv[1], sys.argv[2], int(sys.argv[3])
problems = []
def load(root, base):
    try:
        return json.load(open(os.path.join(base, "manifest.json")))
    except (OSError, ValueError) as e:
        problems.append(f"{root} manifest.json unreadable: {e}")
        return None

ml, ms = load("local", local), load("slurm", slurm)
if ml is None or ms is None:
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1)

# Fields allowed to differ, with the values they must have.
allowed = {"shards": (1, shards)}
for k in sorted(set(ml) | set(ms)):
    a, b = ml.get(k, "<missing>"), ms.get(k, "<missing>")
    if k in allowed:
        if (a, b) != allowed[k]:
            problems.append(f"manifest {k}: local {a!r}, slurm {b!r}, expected {allowed[k]!r}")
    elif a != b:
        problems.append(f"manifest field {k!r} differs: local {str(a)[:200]!r} vs slurm {str(b)[:200]!r}")

# Shard records: shard i of N computed exactly chunks i, i+N, ...
chunks = ms.get("chunks", 0)
rec_dir = os.path.join(slurm, "_shards")
names = sorted(os.listdir(rec_dir)) if os.path.isdir(rec_dir) else []
expect = [f"shard-{i:05d}-of-{shards:05d}.json" for i in range(shards)]
if names != expect:
    problems.append(f"shard records {names}, expected {expect}")
seen = []
for i, n in enumerate(expect):
    try:
        r = json.load(open(os.path.join(rec_dir, n)))
    except (OSError, ValueError) as e:
        problems.append(f"shard record {n}: {e}")
        continue
    want = list(range(i, chunks, shards))
    if (r.get("shard"), r.get("shards")) != (i, shards) or r.get("chunks") != want:
        problems.append(f"{n}: shard {r.get('shard')}/{r.get('shards')} chunks {r.get('chunks')}, "
                        f"expected {i}/{shards} chunks {want}")
    seen += r.get("chunks", [])
if sorted(seen) != list(range(chunks)):
    problems.append(f"shard records cover chunks {sorted(seen)}, expected 0..{chunks - 1}")

print(f"manifest: {chunks} chunks, {len(ms.get('parts', []))} parts, rows {ms.get('rows')}")
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
