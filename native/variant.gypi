# One .node per SIMD variant: faiss_native_<level>.node linked to FAISS's lib<faiss_lib>.a.
# Included by binding.gyp's variant targets, which set level and faiss_lib.
{
  "conditions": [
    ['faiss_opt_level in ("all", level) and level in faiss_variants.split()', {
      "type": "loadable_module",
      # The binding's own code is plain C++ (FAISS holds the SIMD kernels), the same in each.
      # native/sources.json: the one list of the binding's sources (CMakeLists.txt reads it too);
      # paths a command gives are taken from the module root, not from this file.
      "sources": ["<!@(node -p \"require('<(module_root_dir)/native/sources.json').map((f) => 'native/' + f).join(' ')\")"],
      "libraries": ["-L<(faiss_prefix)/lib", "-l<(faiss_lib)", "-L<(openblas_dir)", "-lopenblas", "-fopenmp"],
      "ldflags": [
        # Only Node-API's entry points are exported.
        "-Wl,--version-script=<(module_root_dir)/native/exports.map",
        # OpenBLAS, libgomp and their runtimes ship beside the .node. DT_RPATH (not RUNPATH)
        # so that OpenBLAS's own dependencies are found there too.
        "-Wl,--disable-new-dtags", "-Wl,-rpath,'$$ORIGIN'", "-Wl,-rpath,<(faiss_prefix)/lib",
      ],
      "conditions": [
        # glibc: the C++ runtime inside the .node. musl has no static libstdc++: the .node uses
        # the shared one shipped beside it, and its libgcc_s, so that one unwinder runs.
        ['faiss_libc == "glibc"', {"ldflags": ["-static-libstdc++", "-static-libgcc"]}],
      ],
    }, {
      "type": "none",
    }],
  ],
}
