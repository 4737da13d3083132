/* How much memory the process may still take, for the blocks large enough to end it: Redis' allocator
 * (jemalloc) maps a large block without reserving memory, so one the machine cannot hold is handed out,
 * and the kernel kills Redis as it is filled. (A tiny ONNX model, an Expand to 40 GB, did that through
 * the output tensor gorai made for it; a ConstantOfShape of 40 TB through ONNX Runtime's allocator.) */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
 * system's job, a container) has left below its limit; 0 when there is no limit. Its usage counts the page
 * cache of the files written in it (an RDB or AOF file), which the kernel reclaims before it kills: the
 * inactive part of that cache is counted as room, as container runtimes count a working set. */
static uint64_t cgroup_room(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f == NULL) return 0;
    char line[512], limit[600] = "", usage[600] = "", stat[600] = "";
    const char *inactive_file = "";
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = 0;
        const char *v1 = strstr(line, ":memory:");
        if (v1 != NULL) {
            snprintf(limit, sizeof limit, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", v1 + 8);
            snprintf(usage, sizeof usage, "/sys/fs/cgroup/memory%s/memory.usage_in_bytes", v1 + 8);
            snprintf(stat, sizeof stat, "/sys/fs/cgroup/memory%s/memory.stat", v1 + 8);
            inactive_file = "total_inactive_file";
        } else if (strncmp(line, "0::", 3) == 0 && limit[0] == 0) {
            snprintf(limit, sizeof limit, "/sys/fs/cgroup%s/memory.max", line + 3);
            snprintf(usage, sizeof usage, "/sys/fs/cgroup%s/memory.current", line + 3);
            snprintf(stat, sizeof stat, "/sys/fs/cgroup%s/memory.stat", line + 3);
            inactive_file = "inactive_file";
        }
    }
    fclose(f);
    if (limit[0] == 0) return 0;
    uint64_t max = file_value(limit, ""), used = file_value(usage, ""), cache = file_value(stat, inactive_file);
    used = used > cache ? used - cache : 0;
    return max > used ? max - used : 0;
}

/* address_room is what the process' address-space limit (RLIMIT_AS: `ulimit -v`, a batch system's
 * virtual memory limit) leaves beyond what it has mapped, at least 1; 0 when there is no limit or it is
 * ignored. Past it Redis' allocator fails, and Redis aborts. */
static int ignore_address_limit;

void gorai_memory_ignore_address_limit(void) { ignore_address_limit = 1; }

static uint64_t address_room(void) {
    struct rlimit rl;
    if (ignore_address_limit || getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
    uint64_t mapped = file_value("/proc/self/statm", "") * (uint64_t)sysconf(_SC_PAGESIZE);
    return rl.rlim_cur > mapped ? rl.rlim_cur - mapped : 1;
}

/* least is the smaller of two rooms, 0 being none. */
static uint64_t least(uint64_t a, uint64_t b) { return a != 0 && (b == 0 || a < b) ? a : b; }

uint64_t gorai_memory_left(void) {
    return least(least(file_value("/proc/meminfo", "MemAvailable:") * 1024, cgroup_room()), address_room());
}

/* The bytes of the blocks below GORAI_CHECKED_SIZE that this thread was allowed since it last looked at
 * the memory left: many small blocks end the process as surely as one large one (a script's list of a
 * thousand 4 MB tensors did), so once they add up to that size the memory left is looked at again. */
static __thread size_t unchecked;

int gorai_memory_fits(size_t n) {
    if (n < GORAI_CHECKED_SIZE) {
        unchecked += n;
        if (unchecked < GORAI_CHECKED_SIZE) return 1;
        unchecked = 0;
        /* The next look is as far away again: that much must be left. */
        n = GORAI_CHECKED_SIZE;
    }
    uint64_t left = gorai_memory_left();
    return left == 0 || n <= left;
}
