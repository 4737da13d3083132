/* How much memory the process may still take, for the blocks large enough to end it: Redis' allocator
 * (jemalloc) maps a large block without reserving memory, so one the machine cannot hold is handed out,
 * and the kernel kills Redis as it is filled. (A tiny ONNX model, an Expand to 40 GB, did that through
 * the output tensor gorai made for it; a ConstantOfShape of 40 TB through ONNX Runtime's allocator.) */
#include <stdio.h>
#include <string.h>

#include "memory.h"

/* file_value is the number after field in the first line of the file that starts with it (/proc/meminfo:
 * in kB), or the file's first number when field is empty (a cgroup file); 0 when there is none ("max"). */
static uint64_t file_value(const char *path, const char *field) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    char line[256];
    unsigned long long v = 0;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && sscanf(line + n, " %llu", &v) == 1) break;
    }
    fclose(f);
    return v;
}

/* cgroup_room is what the process' memory cgroup (v2's "0::<path>", or v1's memory controller: a batch
 * system's job, a container) has left below its limit; 0 when there is no limit. */
static uint64_t cgroup_room(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f == NULL) return 0;
    char line[512], limit[600] = "", usage[600] = "";
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = 0;
        const char *v1 = strstr(line, ":memory:");
        if (v1 != NULL) {
            snprintf(limit, sizeof limit, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", v1 + 8);
            snprintf(usage, sizeof usage, "/sys/fs/cgroup/memory%s/memory.usage_in_bytes", v1 + 8);
        } else if (strncmp(line, "0::", 3) == 0 && limit[0] == 0) {
            snprintf(limit, sizeof limit, "/sys/fs/cgroup%s/memory.max", line + 3);
            snprintf(usage, sizeof usage, "/sys/fs/cgroup%s/memory.current", line + 3);
        }
    }
    fclose(f);
    if (limit[0] == 0) return 0;
    uint64_t max = file_value(limit, ""), used = file_value(usage, "");
    return max > used ? max - used : 0;
}

uint64_t gorai_memory_left(void) {
    uint64_t room = file_value("/proc/meminfo", "MemAvailable:") * 1024, cg = cgroup_room();
    return cg != 0 && (room == 0 || cg < room) ? cg : room;
}

int gorai_memory_fits(size_t n) {
    if (n < GORAI_CHECKED_SIZE) return 1;
    uint64_t left = gorai_memory_left();
    return left == 0 || n <= left;
}
