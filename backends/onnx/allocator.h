/* ONNX Runtime's CPU memory through the module allocator (gorai_mem: Redis' allocator inside redis-server,
 * so used_memory and maxmemory see it), counted for INFO and capped by BACKEND_MEMORY_LIMIT, as RedisAI's
 * allocator does. It is registered with ORT's environment; sessions use it when their options say
 * session.use_env_allocators=1 and the CPU arena is off.
 *
 * The Go binding keeps ORT's API table to itself, so this file reaches the few functions it needs through
 * the library's OrtGetApiBase, without ORT's headers (see allocator.cc). */
#ifndef GORAI_ONNX_ALLOCATOR_H
#define GORAI_ONNX_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gorai_ort_allocator_register registers the allocator with ORT's environment, which the library at path
 * (already opened by the binding, with its environment made) holds. 0, or -1 with why in err. */
int gorai_ort_allocator_register(const char *path, char *err, size_t errlen);

/* gorai_ort_api is ORT's API table (version 11) once the allocator is registered, NULL before (run.c). */
const void *const *gorai_ort_api(void);

/* gorai_ort_allocator_limit caps the bytes in use (0: no cap); an allocation past it fails. */
void gorai_ort_allocator_limit(uint64_t bytes);

/* The bytes in use (the allocator's block sizes) and the number of allocations and frees so far. */
uint64_t gorai_ort_memory(void);
uint64_t gorai_ort_memory_access(void);

#ifdef __cplusplus
}
#endif

#endif
