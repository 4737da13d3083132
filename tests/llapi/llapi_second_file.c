/* A second file of the test module, as a module of several files has (RedisAI's own test module:
 * DAG_utils.c): it calls the low-level API through the function pointers, which only one of the
 * module's files may define. tests/llapi_test.go builds the module under both rules of
 * module/redisai.h: this file with REDISAI_EXTERN (RedisAI's), or with nothing beside an
 * llapi_module.c built with REDISAI_MAIN (gorai's). */
#include "redisai.h"

int llapi_version_from_second_file(void) { return RedisAI_GetLLAPIVersion(); }
