// Adding to a flat index on every thread. FAISS's IndexFlat::add grows its codes (zeroing every
// new page, one thread, 4 KB page faults) and then copies the vectors; with our NaN check before
// it, that is three passes over the data on one thread.
#pragma once

#include <faiss/Index.h>

namespace faiss_native {

// Appends n vectors to a plain IndexFlat (IP or L2) that owns its codes and returns true, or
// returns false having done nothing where that does not apply (other types, a memory-mapped
// index, under 4 MB of vectors): the caller then checks and adds through FAISS. The new pages
// are faulted in by all threads (MADV_POPULATE_WRITE), then the threads copy the vectors and
// check them for NaN and infinity in the same pass. (Huge pages, tried too, made later adds
// faster, 100 against 125 ms at 100k x 768, but a process's first add slower, 230-420 ms,
// while the kernel compacts memory.) A bad value throws (naming the vector
// and component) with the index as it was. The codes grow as FAISS grows them (to at least
// twice their size), so memory use is FAISS's own.
bool AddFlatOnAllThreads(faiss::Index& index, faiss::idx_t n, const float* x);

}  // namespace faiss_native
