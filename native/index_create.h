// The functions that create indexes: constructors of each type, the factory, file and buffer readers.
#pragma once

#include <napi.h>

namespace faiss_native {

// Adds createFactory, createScalarQuantizer, createIVF, createHNSWFlat, createIDMap, readIndex(Sync) and
// deserializeIndex(Sync) to the module's exports.
void ExportCreators(Napi::Env env, Napi::Object exports);

}  // namespace faiss_native
