// C++ because ORT (itself C++) takes a failed allocation only as an exception: a NULL from a custom
// allocator is written through and crashes the server (measured with ORT 1.30). ORT's API catches the
// exception and returns its text as the call's error.
#include "allocator.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

extern "C" {
#include "tensor.h"
}

namespace {

// ORT's C API as far as this file uses it (onnxruntime_c_api.h). OrtApi is a table of function pointers
// that ORT only ever appends to, so a function's slot never changes; these are the slots of the functions
// called here (offsetof in OrtApi / sizeof(void *), taken from the header of API version 24).
enum : int {
    kGetErrorMessage = 2,
    kCreateEnv = 3,
    kCreateCpuMemoryInfo = 69,
    kReleaseStatus = 93,
    kRegisterAllocator = 176,
};
// The API version asked for: ORT 1.11's (RedisAI's), which has every function above.
constexpr uint32_t kApiVersion = 11;
constexpr int kLoggingLevelError = 3, kDeviceAllocator = 0, kMemTypeDefault = 0;

struct ApiBase {
    const void *const *(*get_api)(uint32_t version);
    const char *(*version_string)();
};

// OrtAllocator up to the members of its first version: ORT reads the later ones (Reserve, GetStats, ...)
// only from allocators whose version says they are there.
struct Allocator {
    uint32_t version;
    void *(*alloc)(Allocator *self, size_t size);
    void (*free)(Allocator *self, void *p);
    const void *(*info)(const Allocator *self);
};

using Status = void *;
using CreateEnv = Status (*)(int level, const char *logid, void **env);
using CreateCpuMemoryInfo = Status (*)(int alloc_type, int mem_type, void **info);
using RegisterAllocator = Status (*)(void *env, Allocator *a);
using GetErrorMessage = const char *(*)(Status);
using ReleaseStatus = void (*)(Status);

// ORT's kernels (MLAS) expect buffers aligned to 64 bytes, more than Redis' allocator promises: each block
// has room to align its start, and the block's own address is kept just below it for free.
constexpr uintptr_t kAlign = 64;

std::atomic<uint64_t> in_use{0}, accesses{0}, limit{0};
const void *memory_info; // ORT's description of this allocator: CPU, plain (no arena)
const void *const *ort_api; // ORT's API table, once registered

// RedisAI's text, which its clients and tests look for.
const char kLimitExceeded[] = "Onnxruntime memory limit exceeded, memory allocation failed.";

void *ort_alloc(Allocator *, size_t size) {
    // Redis' allocator hands out a block larger than the machine can hold (tensor/memory.h's gorai_memory_fits).
    if (!gorai_memory_fits(size))
        throw std::runtime_error("ONNX Runtime asked for " + std::to_string(size) + " bytes, refused with " +
                                 std::to_string(gorai_memory_left()) + " bytes of memory left: the run cannot be made");
    size_t n = size + kAlign - 1 + sizeof(void *);
    char *block = n < size ? nullptr : static_cast<char *>(gorai_mem.alloc(n));
    if (block == nullptr) throw std::bad_alloc();
    uint64_t got = gorai_mem.size(block);
    // Add first and take back on failure: concurrent allocations cannot pass the cap together.
    uint64_t used = in_use.fetch_add(got) + got;
    uint64_t cap = limit.load(std::memory_order_relaxed);
    if (cap != 0 && used > cap) {
        in_use.fetch_sub(got);
        gorai_mem.free(block);
        throw std::runtime_error(kLimitExceeded);
    }
    accesses.fetch_add(1, std::memory_order_relaxed);
    uintptr_t p = (reinterpret_cast<uintptr_t>(block) + sizeof(void *) + kAlign - 1) & ~(kAlign - 1);
    reinterpret_cast<void **>(p)[-1] = block;
    return reinterpret_cast<void *>(p);
}

void ort_free(Allocator *, void *p) {
    if (p == nullptr) return;
    void *block = static_cast<void **>(p)[-1];
    in_use.fetch_sub(gorai_mem.size(block));
    accesses.fetch_add(1, std::memory_order_relaxed);
    gorai_mem.free(block);
}

const void *ort_info(const Allocator *) { return memory_info; }

Allocator allocator = {kApiVersion, ort_alloc, ort_free, ort_info};

// failed writes ORT's message for a failed call into err and frees the status.
int failed(const void *const *api, Status st, const char *what, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: %s", what, reinterpret_cast<GetErrorMessage>(api[kGetErrorMessage])(st));
    reinterpret_cast<ReleaseStatus>(api[kReleaseStatus])(st);
    return -1;
}

} // namespace

int gorai_ort_allocator_register(const char *path, char *err, size_t errlen) {
    // The binding opened the library: this only finds it.
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (h == nullptr) {
        snprintf(err, errlen, "%s is not loaded", path);
        return -1;
    }
    auto get_base = reinterpret_cast<const ApiBase *(*)()>(dlsym(h, "OrtGetApiBase"));
    dlclose(h);
    if (get_base == nullptr) {
        snprintf(err, errlen, "%s has no OrtGetApiBase", path);
        return -1;
    }
    const void *const *api = get_base()->get_api(kApiVersion);
    if (api == nullptr) {
        snprintf(err, errlen, "ONNX Runtime has no C API version %u", kApiVersion);
        return -1;
    }
    // ORT's environment is one per process: CreateEnv hands back the one the binding made (and holds a
    // reference to it for the process' life), the environment of gorai's sessions.
    void *env = nullptr;
    Status st = reinterpret_cast<CreateEnv>(api[kCreateEnv])(kLoggingLevelError, "gorai", &env);
    if (st != nullptr) return failed(api, st, "CreateEnv", err, errlen);
    void *info = nullptr;
    st = reinterpret_cast<CreateCpuMemoryInfo>(api[kCreateCpuMemoryInfo])(kDeviceAllocator, kMemTypeDefault, &info);
    if (st != nullptr) return failed(api, st, "CreateCpuMemoryInfo", err, errlen);
    memory_info = info;
    st = reinterpret_cast<RegisterAllocator>(api[kRegisterAllocator])(env, &allocator);
    if (st != nullptr) return failed(api, st, "RegisterAllocator", err, errlen);
    ort_api = api;
    return 0;
}

const void *const *gorai_ort_api(void) { return ort_api; }

void gorai_ort_allocator_limit(uint64_t bytes) { limit.store(bytes); }

uint64_t gorai_ort_memory(void) { return in_use.load(); }

uint64_t gorai_ort_memory_access(void) { return accesses.load(); }
