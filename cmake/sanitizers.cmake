# sanitizers.cmake — BT_SANITIZE=ON builds everything with ASan+UBSan, failing on the
# first report (CI runs the whole ctest this way).
if(BT_SANITIZE)
    set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    add_compile_options(${_san})
    add_link_options(${_san})
endif()

# BT_FUZZ=ON (clang): the library itself is instrumented for libFuzzer's coverage and for
# ASan+UBSan, so the fuzzers see into the engine, not only the harness; assertions stay on
# (RelWithDebInfo would define NDEBUG).
if(BT_FUZZ)
    set(_fuzz -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
    add_compile_options(${_fuzz} -UNDEBUG)
    add_link_options(${_fuzz})
endif()
