// LiteRT's C API lets C++ exceptions out: a flatbuffer with one byte changed makes
// LiteRtGetCompiledModelOutputTensorLayouts construct a std::string from NULL and throw. One that reached
// loader.c's C callers would find no handler and abort Redis, so a model's load and its runs are made inside
// gorai_tfl_guard (loader.c is compiled with -fexceptions, so the exception unwinds through it).
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

extern "C" {
#include "loader.h"
}

int gorai_tfl_guard(int (*fn)(void *), void *arg, char **err) {
    std::string what;
    try {
        return fn(arg);
    } catch (const std::exception &e) {
        what = e.what();
    } catch (...) {
        what = "an unknown C++ exception";
    }
    *err = strdup(("ERR TFLITE: LiteRT failed: " + what).c_str());
    return GORAI_TFL_THREW;
}
