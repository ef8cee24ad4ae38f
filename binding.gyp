# node-gyp build of the addon (prebuildify and npm install's from-source fallback).
# CMakeLists.txt builds the same sources the same way through cmake-js for development.
{
  "variables": {
    # FAISS install prefix: the cached build of scripts/install/build-faiss.mjs (built on first use),
    # or FAISS_PREFIX / --faiss_prefix for your own FAISS.
    "faiss_prefix%": "<!(node scripts/install/build-faiss.mjs --prefix)",
    # "all" builds every variant the prefix holds; prebuildify builds one at a time.
    "faiss_opt_level%": "all",
    # "musl" for the linux-*-musl prebuilds (scripts/release/musl-toolchain.mjs), set by prebuild.mjs.
    "faiss_libc%": "glibc",
    "faiss_variants": "<!(node scripts/install/build-faiss.mjs --variants)",
    "cxx_std": "<!(node scripts/install/build-faiss.mjs --cxx-std)",
    "openblas_dir": "<!(node scripts/install/build-faiss.mjs --openblas-dir)",
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    # SWALLOW_UNTHROWABLE: in a worker being terminated, napi_throw fails; node-addon-api would
    # then throw a C++ exception out of its callback wrapper and abort the whole process.
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
                "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    # FAISS's headers as system headers: their own warnings (-Wsign-compare in ResultHandler.h,
    # 15 of them) buried the build's progress; ours still show.
    "cflags_cc": ["-std=<(cxx_std)", "-fexceptions", "-frtti", "-fopenmp", "-fvisibility=hidden", "-O3",
                  "-isystem", "<(faiss_prefix)/include"],
  },
  "targets": [
    {"target_name": "faiss_native_generic", "variables": {"level": "generic", "faiss_lib": "faiss"}, "includes": ["native/variant.gypi"]},
    {"target_name": "faiss_native_avx2", "variables": {"level": "avx2", "faiss_lib": "faiss_avx2"}, "includes": ["native/variant.gypi"]},
    {"target_name": "faiss_native_avx512", "variables": {"level": "avx512", "faiss_lib": "faiss_avx512"}, "includes": ["native/variant.gypi"]},
    {
      # Copies the shared libraries the .node files need (OpenBLAS, libgomp, libgfortran, ...)
      # next to them, so a prebuild runs with nothing installed but glibc.
      "target_name": "bundle_runtime",
      "type": "none",
      "dependencies": ["faiss_native_generic", "faiss_native_avx2", "faiss_native_avx512"],
      "actions": [{
        "action_name": "bundle_runtime",
        "inputs": ["scripts/install/bundle-runtime.mjs"],
        "outputs": ["<(PRODUCT_DIR)/always-rerun"],
        "action": ["node", "scripts/install/bundle-runtime.mjs", "<(PRODUCT_DIR)"],
      }],
    },
  ],
}
