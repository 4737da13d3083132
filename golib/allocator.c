/* The library's tensor code is its own copy of tensor/tensor.c (the tensor package's, compiled by
 * cgo), with its own allocator: Redis', as the module's, so that a tensor made on either side may be
 * freed on the other and Redis counts it. */
#include "module.h"

int gorai_use_redis_allocator(void) {
    gorai_mem.alloc = RedisModule_Alloc;
    gorai_mem.free = RedisModule_Free;
    gorai_mem.size = RedisModule_MallocSize;
    return REDISMODULE_OK;
}
