"""Python side of the parity specs: builds, reads and searches indexes with faiss-cpu.

Run by test/parity/harness.ts as `python reference.py job.json`; vectors and results
travel as .npy files, indexes as FAISS files or serialized bytes. The `langchain*` jobs save a
Python LangChain FAISS store, evaluate its filters and its MMR search (test/langchain*.spec.ts).
"""
import json
import sys

import faiss
import numpy as np


def metric_of(spec):
    return faiss.METRIC_INNER_PRODUCT if spec["metric"] == "ip" else faiss.METRIC_L2


def flat(spec, d):
    return faiss.IndexFlatIP(d) if spec["metric"] == "ip" else faiss.IndexFlatL2(d)


def owning_quantizer(cls, quantizer, *args):
    """An IVF index that owns its quantizer: faiss-cpu 1.12's wrappers of the newer constructors
    (IndexIVFRaBitQ's) do not keep it alive, and it was freed under the index."""
    index = cls(quantizer, *args)
    quantizer.this.disown()
    index.own_fields = True
    return index


def make(spec, d):
    kind = spec["kind"]
    if kind == "flat":
        return flat(spec, d)
    if kind == "ivfsq":
        qtype = getattr(faiss.ScalarQuantizer, spec["qtype"])
        return faiss.IndexIVFScalarQuantizer(flat(spec, d), d, spec["nlist"], qtype, metric_of(spec), spec["byResidual"])
    if kind == "ivfflat":
        return faiss.IndexIVFFlat(flat(spec, d), d, spec["nlist"], metric_of(spec))
    if kind == "ivfpq":
        return faiss.IndexIVFPQ(flat(spec, d), d, spec["nlist"], spec["M"], spec["nbits"], metric_of(spec))
    if kind == "refineflat":
        index = faiss.IndexRefineFlat(faiss.IndexIVFPQ(flat(spec, d), d, spec["nlist"], spec["M"], spec["nbits"], metric_of(spec)))
        index.k_factor = spec["kFactor"]
        return index
    if kind == "rabitq":
        return faiss.IndexRaBitQ(d, metric_of(spec))
    if kind == "ivfrabitq":
        return owning_quantizer(faiss.IndexIVFRaBitQ, flat(spec, d), d, spec["nlist"], metric_of(spec))
    if kind == "pqfastscan":
        return faiss.IndexPQFastScan(d, spec["M"], 4, metric_of(spec))
    if kind == "ivfpqfastscan":
        return owning_quantizer(faiss.IndexIVFPQFastScan, flat(spec, d), d, spec["nlist"], spec["M"], 4, metric_of(spec))
    if kind == "hnsw":
        return faiss.IndexHNSWFlat(d, spec["M"], metric_of(spec))
    if kind == "idmap":
        return faiss.IndexIDMap(flat(spec, d))
    if kind == "idmap2":
        return faiss.IndexIDMap2(flat(spec, d))
    if kind == "factory":
        return faiss.index_factory(d, spec["description"], metric_of(spec))
    raise ValueError(kind)


def build(job):
    base = np.load(job["base"])
    index = make(job["spec"], base.shape[1])
    index.train(base)
    if job.get("ids"):
        index.add_with_ids(base, np.load(job["ids"]))
    else:
        index.add(base)
    faiss.write_index(index, job["indexOut"])
    faiss.serialize_index(index).tofile(job["bytesOut"])
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None and job.get("centroidsOut"):
        np.save(job["centroidsOut"], ivf.quantizer.reconstruct_n(0, ivf.nlist))


def load(job):
    if "index" in job:
        return faiss.read_index(job["index"])
    return faiss.deserialize_index(np.fromfile(job["bytes"], dtype=np.uint8))


def rabitq_params(ivf, nprobe, qb):
    """RaBitQ's per-call parameters: its query bits (and nprobe through IVF)."""
    params = faiss.IVFRaBitQSearchParameters() if ivf is not None else faiss.RaBitQSearchParameters()
    if ivf is not None:
        params.nprobe = nprobe
    params.qb = qb
    return params


def search(job):
    index = load(job)
    queries = np.load(job["queries"])
    ivf = faiss.try_extract_index_ivf(index)
    for nprobe in job["nprobes"]:
        if ivf is not None:
            ivf.nprobe = nprobe
        if job.get("qb") is None:
            D, I = index.search(queries, job["k"])
        else:
            D, I = index.search(queries, job["k"], params=rabitq_params(ivf, nprobe, job["qb"]))
        np.save(f"{job['out']}_D{nprobe}.npy", D)
        np.save(f"{job['out']}_I{nprobe}.npy", I)


def selector(f, keep):
    """The FAISS selector a filter job describes; keep holds what the selectors point to."""
    if f["kind"] == "ids":
        sel = faiss.IDSelectorBatch(np.load(f["ids"]))
    elif f["kind"] == "bitmap":
        bits = np.load(f["bitmap"])
        keep.append(bits)
        sel = faiss.IDSelectorBitmap(bits)
    else:
        sel = faiss.IDSelectorRange(int(f["min"]), int(f["max"]))
    keep.append(sel)
    return faiss.IDSelectorNot(sel) if f["not"] else sel


def filtered(job):
    """Searches with each filter as SearchParameters(sel=...), and nprobe on IVF indexes."""
    index = load(job)
    queries = np.load(job["queries"])
    ivf = faiss.try_extract_index_ivf(index)
    for i, f in enumerate(job["filters"]):
        keep = []
        sel = selector(f, keep)
        if ivf is not None:
            params = faiss.SearchParametersIVF(sel=sel, nprobe=job["nprobe"])
        else:
            params = faiss.SearchParameters(sel=sel)
        D, I = index.search(queries, job["k"], params=params)
        np.save(f"{job['out']}_D{i}.npy", D)
        np.save(f"{job['out']}_I{i}.npy", I)


def merge(job):
    """Two copies of a trained (empty) index get one half of the vectors each; the second is
    merged into the first, which is written out."""
    base = np.load(job["base"])
    half = base.shape[0] // 2
    a, b = faiss.read_index(job["trained"]), faiss.read_index(job["trained"])
    if job.get("ids"):
        ids = np.load(job["ids"])
        a.add_with_ids(base[:half], ids[:half])
        b.add_with_ids(base[half:], ids[half:])
    else:
        a.add(base[:half])
        b.add(base[half:])
    a.merge_from(b, job["addId"])
    assert b.ntotal == 0
    faiss.write_index(a, job["indexOut"])


def ondisk(job):
    """Shards of a trained index, each with a contiguous part of the vectors (ids = rows), merged
    by faiss.contrib.ondisk.merge_ondisk into an on-disk index (written, its data file copied
    aside), then searched; and a merge with shift_ids of shards of different sizes whose own
    ids restart at 0."""
    from faiss.contrib.ondisk import merge_ondisk

    base = np.load(job["base"])
    queries = np.load(job["queries"])
    cuts = job["cuts"]
    shards = []
    for i in range(len(cuts) - 1):
        shard = faiss.read_index(job["trained"])
        shard.add_with_ids(base[cuts[i]:cuts[i + 1]], np.arange(cuts[i], cuts[i + 1], dtype="int64"))
        faiss.write_index(shard, f"{job['out']}_shard{i}.index")
        shards.append(f"{job['out']}_shard{i}.index")
    index = faiss.read_index(job["trained"])
    merge_ondisk(index, shards, job["ivfdata"])
    faiss.write_index(index, job["indexOut"])
    with open(job["ivfdata"], "rb") as src, open(job["ivfdataCopy"], "wb") as dst:
        dst.write(src.read())
    D, I = index.search(queries, job["k"])
    np.save(f"{job['out']}_D.npy", D)
    np.save(f"{job['out']}_I.npy", I)

    local = []
    for i, (a, b) in enumerate(zip(job["unequalCuts"], job["unequalCuts"][1:])):
        shard = faiss.read_index(job["trained"])
        shard.add(base[a:b])
        faiss.write_index(shard, f"{job['out']}_local{i}.index")
        local.append(f"{job['out']}_local{i}.index")
    shifted = faiss.read_index(job["trained"])
    merge_ondisk(shifted, local, job["ivfdata"] + ".shifted", shift_ids=True)
    invlists = faiss.extract_index_ivf(shifted).invlists
    ids = np.concatenate([faiss.rev_swig_ptr(invlists.get_ids(l), invlists.list_size(l)).copy()
                          for l in range(invlists.nlist) if invlists.list_size(l) > 0])
    np.save(f"{job['out']}_shifted_ids.npy", ids)


def langchain_store(job):
    """A Python LangChain FAISS store, as its users make one: FAISS.from_embeddings(...)."""
    import warnings

    warnings.filterwarnings("ignore")  # langchain-community announces its sunset on import
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings

    class Precomputed(Embeddings):
        """The vectors come with the texts; nothing is embedded here."""

        def embed_documents(self, texts):
            raise NotImplementedError

        def embed_query(self, text):
            raise NotImplementedError

    vectors = np.load(job["vectors"])
    texts = job["texts"]
    return FAISS.from_embeddings(
        list(zip(texts, vectors.tolist())),
        Precomputed(),
        metadatas=job.get("metadatas") or [{"row": i} for i in range(len(texts))],
        ids=job["ids"],
    )


def langchain(job):
    """A store saved by Python LangChain: save_local(dir) writes an IndexFlatL2 file and a
    pickled docstore."""
    langchain_store(job).save_local(job["out"])


def langchain_filter(job):
    """Which metadata each of Python LangChain FAISS's filters matches (its own filter function)."""
    from langchain_community.vectorstores import FAISS

    matches = []
    for f in job["filters"]:
        test = FAISS._create_filter_func(f)
        matches.append([i for i, m in enumerate(job["metadatas"]) if test(m)])
    with open(job["out"], "w") as out:
        json.dump(matches, out)


def langchain_mmr(job):
    """The ids Python LangChain's max_marginal_relevance_search_by_vector picks per query."""
    store = langchain_store(job)
    queries = np.load(job["queries"])
    picked = []
    for q in queries:
        docs = store.max_marginal_relevance_search_by_vector(q.tolist(), k=job["k"], fetch_k=job["fetchK"], lambda_mult=job["lambda"])
        picked.append([d.id for d in docs])
    with open(job["out"], "w") as out:
        json.dump(picked, out)


def binary_index(spec, d):
    kind = spec["kind"]
    if kind == "flat":
        index = faiss.IndexBinaryFlat(d)
    elif kind == "ivf":
        index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(d), d, spec["nlist"])
    elif kind == "hnsw":
        index = faiss.IndexBinaryHNSW(d, spec["M"])
    else:
        index = faiss.index_binary_factory(d, spec["description"])
    if spec.get("idmap") == 1:
        index = faiss.IndexBinaryIDMap(index)
    elif spec.get("idmap") == 2:
        index = faiss.IndexBinaryIDMap2(index)
    return index


def binary_search(index, queries, k, param):
    """Searches with nprobe or efSearch set on the IVF or HNSW layer (under an IDMap too)."""
    inner = faiss.downcast_IndexBinary(index.index) if isinstance(index, (faiss.IndexBinaryIDMap, faiss.IndexBinaryIDMap2)) else index
    if isinstance(inner, faiss.IndexBinaryIVF):
        inner.nprobe = param
    elif isinstance(inner, faiss.IndexBinaryHNSW):
        inner.hnsw.efSearch = param
    return index.search(queries, k)


def binary(job):
    """Binary indexes: binarize as numpy does, build, write, search its own and Node's files;
    a flat index's filtered searches (FAISS takes filters only there)."""
    floats = np.load(job["floats"])
    np.save(job["binarizedOut"], np.packbits(floats > np.load(job["thresholds"]), axis=-1))
    base = np.load(job["base"])
    queries = np.load(job["queries"])
    index = binary_index(job["spec"], base.shape[1] * 8)
    index.train(base)
    if job.get("ids"):
        index.add_with_ids(base, np.load(job["ids"]))
    else:
        index.add(base)
    faiss.write_index_binary(index, job["indexOut"])
    faiss.serialize_index_binary(index).tofile(job["bytesOut"])
    sources = {
        "own": index,
        "node-file": faiss.read_index_binary(job["nodeIndex"]),
        "node-bytes": faiss.deserialize_index_binary(np.fromfile(job["nodeBytes"], dtype=np.uint8)),
    }
    for name, loaded in sources.items():
        for param in job["params"]:
            D, I = binary_search(loaded, queries, job["k"], param)
            np.save(f"{job['out']}_{name}_D{param}.npy", D)
            np.save(f"{job['out']}_{name}_I{param}.npy", I)
    for i, f in enumerate(job.get("filters", [])):
        keep = []
        D, I = index.search(queries, job["k"], params=faiss.SearchParameters(sel=selector(f, keep)))
        np.save(f"{job['out']}_filter{i}_D.npy", D)
        np.save(f"{job['out']}_filter{i}_I.npy", I)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        {
            "build": build,
            "binary": binary,
            "search": search,
            "filtered": filtered,
            "merge": merge,
            "ondisk": ondisk,
            "langchain": langchain,
            "langchain_filter": langchain_filter,
            "langchain_mmr": langchain_mmr,
        }[job["op"]](job)
