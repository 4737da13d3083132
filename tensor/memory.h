/* How much memory the process may still take (memory.c), for the blocks large enough to end it. */
#ifndef GORAI_TENSOR_MEMORY_H
#define GORAI_TENSOR_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/* Blocks of GORAI_CHECKED_SIZE bytes or more are first compared with the memory the process may still take:
 * the kernel's MemAvailable, or when less its memory cgroup's room or what its address-space limit
 * (RLIMIT_AS) leaves (0: unknown); smaller ones each time a
 * thread's add up to that size, when that size must be left. gorai_memory_fits says whether a block of n
 * bytes may be taken. */
#define GORAI_CHECKED_SIZE ((size_t)64 << 20)
uint64_t gorai_memory_left(void);
int gorai_memory_fits(size_t n);

/* gorai_memory_ignore_address_limit leaves the address-space limit out of the memory left: for the TFLITE
 * trial program, whose cap is that limit, and whose output reservations (address space, not memory) take
 * most of the room under it. */
void gorai_memory_ignore_address_limit(void);

/* gorai_memory_guard_libraries points the calls of the loaded libraries whose file name contains name to malloc,
 * calloc, realloc, posix_memalign, aligned_alloc and operator new at versions that fail, as the allocator would
 * (new throws std::bad_alloc), where gorai_memory_fits refuses the block (memory_guard.c): for runtimes whose C
 * API takes no allocator, or not for all they allocate. It returns how many call sites it redirected (0 on an
 * architecture it does not know). */
int gorai_memory_guard_libraries(const char *name);

#endif
