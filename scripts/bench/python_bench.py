"""Python faiss-cpu side of the benchmarks: the workloads of floor.cpp on the same files.

python python_bench.py <index> <queries.f32> <d> <nSingle> <k> <nprobes,...> <batch,...> <reps>
python python_bench.py --add <trained empty index> <base.f32> <d>
Prints one JSON object.
python python_bench.py --serve
Answers the JSON-line requests of python-peers.mjs on stdin (see peer-worker.mjs, its Node twin).
"""
import json
import sys
import time

import faiss
import numpy as np


def main(index_path, queries_path, d, n_single, k, nprobes, batches, reps):
    index = faiss.read_index(index_path)
    q = np.fromfile(queries_path, dtype=np.float32).reshape(-1, d)
    ivf = faiss.try_extract_index_ivf(index)
    runs = []
    for nprobe in nprobes:
        if ivf is not None:
            ivf.nprobe = nprobe
        lat = []
        for i in range(min(n_single, len(q))):
            t0 = time.perf_counter()
            index.search(q[i : i + 1], k)
            lat.append((time.perf_counter() - t0) * 1e6)
        lat_sorted = sorted(lat)
        pick = lambda p: lat_sorted[min(len(lat) - 1, int(p * (len(lat) - 1) + 0.5))]
        batch = {}
        for b in batches:
            b = min(b, len(q))
            times = []  # up to reps repetitions, fewer once 2 s are spent (as bench.mjs does)
            while len(times) < reps and (len(times) < 2 or sum(times) < 2):
                t0 = time.perf_counter()
                index.search(q[:b], k)
                times.append(time.perf_counter() - t0)
            batch[str(b)] = {"qps": b / sorted(times)[len(times) // 2]}
        runs.append({"nprobe": nprobe if ivf is not None else 0,
                     "single": {"p50_us": pick(0.5), "p99_us": pick(0.99), "qps": len(lat) / (sum(lat) / 1e6)},
                     "batch": batch})
    print(json.dumps({"runs": runs, "faiss": faiss.__version__, "options": faiss.get_compile_options()}))


def add(index_path, base_path, d):
    index = faiss.read_index(index_path)
    x = np.fromfile(base_path, dtype=np.float32).reshape(-1, d)
    t0 = time.perf_counter()
    index.add(x)
    print(json.dumps({"add_s": time.perf_counter() - t0}))


def serve():
    index = ivf = q = None
    at = 0  # next query of the single-query loop, so that rounds go through every query
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "load":
            index = faiss.read_index(req["index"])
            ivf = faiss.try_extract_index_ivf(index)
            q = np.fromfile(req["queries"], dtype=np.float32).reshape(-1, req["d"])
            out = {"faiss": faiss.__version__}
        elif req["op"] in ("train", "add"):
            x = np.fromfile(req["base"], dtype=np.float32).reshape(-1, req["d"])
            if req["op"] == "train":
                built = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(req["d"]), req["d"], req["nlist"],
                                                      faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            else:
                built = faiss.IndexFlatIP(req["d"])
            t0 = time.perf_counter()
            built.train(x) if req["op"] == "train" else built.add(x)
            out = {"us": [(time.perf_counter() - t0) * 1e6]}
            del built
        else:
            if ivf is not None:
                ivf.nprobe = req["nprobe"]
            if req["op"] == "single":
                lat = []
                for _ in range(req["count"]):
                    t0 = time.perf_counter()
                    index.search(q[at : at + 1], req["k"])
                    lat.append((time.perf_counter() - t0) * 1e6)
                    at = (at + 1) % len(q)
                out = {"us": lat}
            else:
                t0 = time.perf_counter()
                index.search(q[: req["nq"]], req["k"])
                out = {"us": [(time.perf_counter() - t0) * 1e6]}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "--serve":
        serve()
        sys.exit(0)
    if a[1] == "--add":
        add(a[2], a[3], int(a[4]))
        sys.exit(0)
    main(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), [int(x) for x in a[6].split(",")], [int(x) for x in a[7].split(",")], int(a[8]))
