// The C++ allocation functions of memory_guard.c's guard: operator new and new[] that refuse a block the memory
// left cannot hold as operator new does when out of memory, by throwing std::bad_alloc (here with the sizes in
// its message). libtorch builds TorchScript lists and strings with new: a script's [1] * 1000000000 asked for
// 16 GB in a memory cgroup of 2 GiB, and the kernel killed Redis as libtorch filled it.
#include <cinttypes>
#include <cstdio>
#include <new>

extern "C" {
#include "memory.h"
}

namespace {

class refused : public std::bad_alloc {
  public:
    explicit refused(size_t n) {
        std::snprintf(msg_, sizeof msg_, "asked for %zu bytes, refused with %" PRIu64 " bytes of memory left", n,
                      gorai_memory_left());
    }
    const char *what() const noexcept override { return msg_; }

  private:
    char msg_[128];
};

void check(size_t n) {
    if (!gorai_memory_fits(n)) throw refused(n);
}

} // namespace

extern "C" {

void *gorai_guarded_new(size_t n) {
    check(n);
    return ::operator new(n);
}

void *gorai_guarded_new_array(size_t n) {
    check(n);
    return ::operator new[](n);
}

void *gorai_guarded_new_aligned(size_t n, size_t alignment) {
    check(n);
    return ::operator new(n, std::align_val_t(alignment));
}

void *gorai_guarded_new_array_aligned(size_t n, size_t alignment) {
    check(n);
    return ::operator new[](n, std::align_val_t(alignment));
}
}
