"""autofaiss 2.18.0's distributed build (pyspark, local mode) of a sharded IVF index, then the
shards searched and merged on disk by Python faiss, for faiss-native to compare against.
Run by scripts/spark/build-on-spark.mjs with the .venv-spark python:
  JAVA_HOME=... PYSPARK_PYTHON=<venv python> PYSPARK_DRIVER_PYTHON=<venv python> \
    python autofaiss_shards.py job.json
job.json: {embeddings (folder of .npy files), out (folder), indexKey, indexParam, metric,
shards, queries (.npy), k}. Writes into out: knn.index0.. (autofaiss's shards),
index_infos.json0.., shard{i}_D.npy / shard{i}_I.npy (each shard's search of the queries),
merged.index + merged.ivfdata (faiss.contrib.ondisk.merge_ondisk of the shards),
merged_D.npy / merged_I.npy, and timings.json. Progress goes to stderr; stdout stays empty.
"""
import json
import os
import sys
import time


def log(msg):
    print(f"autofaiss_shards: {msg}", file=sys.stderr, flush=True)


def build_shards(job, out):
    """autofaiss's build on a local Spark session; returns (spark startup s, build_index s)."""
    from pyspark.sql import SparkSession

    # Spark's scratch space and autofaiss's temporary indices stay under out: the latter's
    # default is an hdfs:// folder, which a local session cannot write.
    spark_local = os.path.join(out, "spark-local")
    tmp_indices = os.path.join(out, "tmp_indices")
    os.makedirs(spark_local, exist_ok=True)
    os.makedirs(tmp_indices, exist_ok=True)

    t0 = time.time()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("faiss-native-autofaiss-shards")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.enabled", "false")
        # Loopback only: no port opened to the network, and no reverse DNS of the host name.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.local.dir", spark_local)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    startup = time.time() - t0
    log(f"spark session started in {startup:.1f}s")

    from autofaiss import build_index

    t1 = time.time()
    try:
        _, infos = build_index(
            embeddings=job["embeddings"],
            file_format="npy",
            index_path=os.path.join(out, "knn.index"),  # shards: knn.index0, knn.index1, ...
            index_infos_path=os.path.join(out, "index_infos.json"),
            distributed="pyspark",
            temporary_indices_folder=tmp_indices,
            nb_indices_to_keep=job["shards"],
            index_key=job["indexKey"],
            # Required with more than one shard: without it autofaiss tunes each shard with
            # reconstruct_n(0, n) as queries, which past shard 0 (ids from n/shards up) reads
            # uninitialised memory and kills the Python worker ("Invalid key=... nlist=...").
            index_param=job["indexParam"],
            metric_type=job["metric"],
            max_index_memory_usage="1G",
            current_memory_available="4G",
            nb_cores=2,
            save_on_disk=True,
        )
    finally:
        build = time.time() - t1
        spark.stop()
    log(f"build_index took {build:.1f}s")
    if not infos:
        raise SystemExit("autofaiss wrote no index (build_index returned no infos)")
    return startup, build


def search_and_merge(job, out):
    """Each shard's search, their on-disk merge and its search; returns the shards' sizes."""
    import faiss
    import numpy as np
    from faiss.contrib.ondisk import merge_ondisk

    queries = np.ascontiguousarray(np.load(job["queries"]), dtype=np.float32)
    k = job["k"]
    shards = [os.path.join(out, f"knn.index{i}") for i in range(job["shards"])]
    missing = [s for s in shards if not os.path.exists(s)]
    if missing:
        raise SystemExit(f"autofaiss did not write {', '.join(missing)}")

    sizes = []
    for i, path in enumerate(shards):
        index = faiss.read_index(path)
        sizes.append(int(index.ntotal))
        # The shard's own nprobe, which autofaiss set from indexParam before writing it.
        D, I = index.search(queries, k)
        np.save(os.path.join(out, f"shard{i}_D.npy"), D)
        np.save(os.path.join(out, f"shard{i}_I.npy"), I)
        log(f"shard {i}: {index.ntotal} vectors, nprobe {faiss.extract_index_ivf(index).nprobe}")

    # merge_ondisk fills an empty trained index: shard 0 with its (in-memory) lists emptied
    # keeps the quantizer every shard shares, and its nprobe.
    trained = faiss.read_index(shards[0])
    trained.reset()
    ivfdata = os.path.abspath(os.path.join(out, "merged.ivfdata"))  # the .index file records it as given
    merge_ondisk(trained, shards, ivfdata)
    faiss.write_index(trained, os.path.join(out, "merged.index"))
    merged = faiss.read_index(os.path.join(out, "merged.index"))
    D, I = merged.search(queries, k)
    np.save(os.path.join(out, "merged_D.npy"), D)
    np.save(os.path.join(out, "merged_I.npy"), I)
    log(f"merged: {merged.ntotal} vectors in {ivfdata}")
    return sizes


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: python autofaiss_shards.py job.json")
    with open(sys.argv[1]) as f:
        job = json.load(f)
    out = os.path.abspath(job["out"])
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    # Spark, autofaiss and FAISS's C++ (merge_ondisk's "resizing ...") print to stdout here and
    # there: the descriptor itself goes to stderr, for the JVM and C++ too, and the caller reads
    # only timings.json.
    sys.stdout.flush()
    os.dup2(2, 1)
    startup, build = build_shards(job, out)
    sizes = search_and_merge(job, out)
    timings = {
        "indexKey": job["indexKey"],
        "indexParam": job["indexParam"],
        "sparkStartupSeconds": round(startup, 3),
        "buildIndexSeconds": round(build, 3),
        "totalSeconds": round(time.time() - t0, 3),
        "shardNtotals": sizes,
    }
    with open(os.path.join(out, "timings.json"), "w") as f:
        json.dump(timings, f, indent=1)
    log(f"done in {timings['totalSeconds']}s")


if __name__ == "__main__":
    main()
