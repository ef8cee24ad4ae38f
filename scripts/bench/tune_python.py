"""Python side of tune-vs-python.mjs: FAISS's ParameterSpace.explore on an index file.

python tune_python.py <index> <queries.f32> <gt.i64> <d> <k> <target>
Prints JSON: the operating points explore measured (nprobe or efSearch, recall@k), the
smallest value meeting the target, and the seconds explore took.
"""
import json
import sys
import time

import faiss
import numpy as np

index_path, queries_path, gt_path, d, k, target = sys.argv[1:7]
d, k, target = int(d), int(k), float(target)
index = faiss.read_index(index_path)
xq = np.fromfile(queries_path, dtype=np.float32).reshape(-1, d)
gt = np.fromfile(gt_path, dtype=np.int64).reshape(-1, k)
ps = faiss.ParameterSpace()
ps.initialize(index)
ps.verbose = 0
crit = faiss.IntersectionCriterion(xq.shape[0], k)
crit.set_groundtruth(None, gt)
t0 = time.perf_counter()
ops = ps.explore(index, xq, crit)
seconds = time.perf_counter() - t0
points = []
for i in range(ops.all_pts.size()):
    p = ops.all_pts.at(i)
    name, value = p.key.split("=")
    points.append({"value": int(float(value)), "recall": p.perf, "seconds": p.t})
points.sort(key=lambda p: p["value"])
met = [p["value"] for p in points if p["recall"] >= target]
print(json.dumps({"parameter": name, "points": points, "chosen": met[0] if met else None, "seconds": seconds}))
