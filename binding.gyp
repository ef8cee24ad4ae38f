# node-gyp build of the addon (prebuildify and npm install's from-source fallback).
# CMakeLists.txt builds the same sources the same way through cmake-js for development.
{
  "variables": {
    # FAISS install prefix: the cached build from scripts/build-faiss.mjs (built on first use),
    # or FAISS_PREFIX / --faiss_prefix for your own FAISS.
    "faiss_prefix%": "<!(node scripts/build-faiss.mjs --prefix)",
    # Which variants to build: all that the prefix holds, or one (prebuildify builds one at a time).
    "faiss_opt_level%": "all",
    "faiss_variants": "<!(node scripts/build-faiss.mjs --variants)",
    "cxx_std": "<!(node scripts/build-faiss.mjs --cxx-std)",
    "openblas_dir": "/usr/lib/x86_64-linux-gnu/openblas-openmp",
  },
  "target_defaults": {
    "type": "loadable_module",
    "sources": ["native/addon.cc", "native/errors.cc", "native/index_wrap.cc", "native/jobs.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(faiss_prefix)/include"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
                "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=<(cxx_std)", "-fexceptions", "-frtti", "-fopenmp", "-fvisibility=hidden", "-O3"],
    "libraries": [
      "-L<(faiss_prefix)/lib", "-l<(faiss_lib)", "-L<(openblas_dir)", "-lopenblas", "-fopenmp",
    ],
    "ldflags": [
      # C++ runtime inside the .node; FAISS and libstdc++ symbols stay private to it.
      "-static-libstdc++", "-static-libgcc", "-Wl,--exclude-libs,ALL",
      # OpenBLAS, libgomp and their runtimes ship beside the .node. DT_RPATH (not RUNPATH)
      # so that OpenBLAS's own dependencies are found there too.
      "-Wl,--disable-new-dtags", "-Wl,-rpath,'$$ORIGIN'", "-Wl,-rpath,<(faiss_prefix)/lib",
    ],
  },
  "targets": [
    {
      "target_name": "faiss_native_generic",
      "variables": {"faiss_lib": "faiss"},
      "conditions": [['faiss_opt_level not in ("all", "generic") or "generic" not in faiss_variants.split()', {"type": "none", "sources=": []}]],
    },
    {
      "target_name": "faiss_native_avx2",
      "variables": {"faiss_lib": "faiss_avx2"},
      "conditions": [['faiss_opt_level not in ("all", "avx2") or "avx2" not in faiss_variants.split()', {"type": "none", "sources=": []}]],
    },
    {
      "target_name": "faiss_native_avx512",
      "variables": {"faiss_lib": "faiss_avx512"},
      "conditions": [['faiss_opt_level not in ("all", "avx512") or "avx512" not in faiss_variants.split()', {"type": "none", "sources=": []}]],
    },
    {
      # Copies the shared libraries the .node files need (OpenBLAS, libgomp, libgfortran, ...)
      # next to them, so prebuilds run with nothing installed but glibc.
      "target_name": "bundle_runtime",
      "type": "none",
      "dependencies": ["faiss_native_generic", "faiss_native_avx2", "faiss_native_avx512"],
      "actions": [{
        "action_name": "bundle_runtime",
        "inputs": ["scripts/bundle-runtime.mjs"],
        "outputs": ["<(PRODUCT_DIR)/.runtime-bundled"],
        "action": ["node", "scripts/bundle-runtime.mjs", "<(PRODUCT_DIR)"],
      }],
    },
  ],
}
