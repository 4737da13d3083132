/* A guard on the allocations of runtimes that take no allocator of gorai's (TensorFlow, LiteRT), or not for all
 * they allocate (libtorch's TorchScript lists and strings): their calls to malloc, calloc, realloc, posix_memalign,
 * aligned_alloc and operator new are pointed, in their own relocation tables, at versions that refuse a block the
 * memory left cannot hold (gorai_memory_fits) as an allocation failure (new throws std::bad_alloc), which the
 * runtime reports as its out-of-memory error. Redis' allocator would hand such a block out unreserved, and
 * the kernel kill Redis as the runtime filled it (a TF graph's Fill of 4 GB in a memory cgroup of 2 GiB did; TF
 * itself refuses only what is beyond the machine's physical memory). Nothing else in the process is touched. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory.h"

static void *guarded_malloc(size_t n) {
    if (!gorai_memory_fits(n)) {
        errno = ENOMEM;
        return NULL;
    }
    return malloc(n);
}

static void *guarded_calloc(size_t count, size_t n) {
    if (n != 0 && count > SIZE_MAX / n) {
        errno = ENOMEM;
        return NULL;
    }
    if (!gorai_memory_fits(count * n)) {
        errno = ENOMEM;
        return NULL;
    }
    return calloc(count, n);
}

static void *guarded_realloc(void *p, size_t n) {
    if (!gorai_memory_fits(n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

static int guarded_posix_memalign(void **p, size_t alignment, size_t n) {
    if (!gorai_memory_fits(n)) return ENOMEM;
    return posix_memalign(p, alignment, n);
}

static void *guarded_aligned_alloc(size_t alignment, size_t n) {
    if (!gorai_memory_fits(n)) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned_alloc(alignment, n);
}

/* memory_guard_new.cc: operator new and new[], plain and aligned, throwing std::bad_alloc when refused. */
void *gorai_guarded_new(size_t n);
void *gorai_guarded_new_array(size_t n);
void *gorai_guarded_new_aligned(size_t n, size_t alignment);
void *gorai_guarded_new_array_aligned(size_t n, size_t alignment);

static const struct {
    const char *name;
    void *guarded;
} guards[] = {
    {"malloc", (void *)guarded_malloc},
    {"calloc", (void *)guarded_calloc},
    {"realloc", (void *)guarded_realloc},
    {"posix_memalign", (void *)guarded_posix_memalign},
    {"aligned_alloc", (void *)guarded_aligned_alloc},
    {"_Znwm", (void *)gorai_guarded_new},
    {"_Znam", (void *)gorai_guarded_new_array},
    {"_ZnwmSt11align_val_t", (void *)gorai_guarded_new_aligned},
    {"_ZnamSt11align_val_t", (void *)gorai_guarded_new_array_aligned},
};

#if defined(__x86_64__)
#define SLOT_TYPE(t) ((t) == R_X86_64_JUMP_SLOT || (t) == R_X86_64_GLOB_DAT)
#elif defined(__aarch64__)
#define SLOT_TYPE(t) ((t) == R_AARCH64_JUMP_SLOT || (t) == R_AARCH64_GLOB_DAT)
#endif

#ifdef SLOT_TYPE
struct guard_call {
    const char *name; /* a part of the file names of the libraries to guard */
    int slots;        /* how many entries were redirected */
};

/* address is a dynamic entry's pointer: ld.so rewrites most to absolute ones; some stay relative to base. */
static uintptr_t address(ElfW(Addr) base, ElfW(Addr) p) { return p < base ? base + p : p; }

/* redirect points the slot at guarded, making its page writable for the write when it lies in the object's
 * read-only-after-relocation segment, and read-only again after. */
static int redirect(void **slot, void *guarded, uintptr_t relro, size_t relro_len) {
    uintptr_t page = (uintptr_t)slot & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
    size_t len = (uintptr_t)(slot + 1) - page;
    int ro = relro_len > 0 && (uintptr_t)slot >= relro && (uintptr_t)slot < relro + relro_len;
    if (ro && mprotect((void *)page, len, PROT_READ | PROT_WRITE) != 0) return -1;
    __atomic_store_n(slot, guarded, __ATOMIC_SEQ_CST);
    if (ro) mprotect((void *)page, len, PROT_READ);
    return 0;
}

/* guard_relocations redirects the allocation functions' slots among n relocations. */
static void guard_relocations(const ElfW(Rela) *rel, size_t n, const ElfW(Sym) *symtab, const char *strtab,
                              ElfW(Addr) base, uintptr_t relro, size_t relro_len, int *slots) {
    for (size_t i = 0; i < n; i++) {
        if (!SLOT_TYPE(ELF64_R_TYPE(rel[i].r_info))) continue;
        const char *name = strtab + symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
        for (size_t g = 0; g < sizeof guards / sizeof guards[0]; g++) {
            if (strcmp(name, guards[g].name) == 0 &&
                redirect((void **)(base + rel[i].r_offset), guards[g].guarded, relro, relro_len) == 0) {
                (*slots)++;
            }
        }
    }
}

static int guard_object(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct guard_call *c = arg;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, c->name) == NULL) return 0;
    const ElfW(Dyn) *dyn = NULL;
    uintptr_t relro = 0;
    size_t relro_len = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC) dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        if (ph->p_type == PT_GNU_RELRO) relro = info->dlpi_addr + ph->p_vaddr, relro_len = ph->p_memsz;
    }
    if (dyn == NULL) return 0;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *jmprel = NULL, *rela = NULL;
    size_t jmprel_size = 0, rela_size = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: symtab = (const ElfW(Sym) *)address(info->dlpi_addr, dyn->d_un.d_ptr); break;
        case DT_STRTAB: strtab = (const char *)address(info->dlpi_addr, dyn->d_un.d_ptr); break;
        case DT_JMPREL: jmprel = (const ElfW(Rela) *)address(info->dlpi_addr, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: jmprel_size = dyn->d_un.d_val; break;
        case DT_RELA: rela = (const ElfW(Rela) *)address(info->dlpi_addr, dyn->d_un.d_ptr); break;
        case DT_RELASZ: rela_size = dyn->d_un.d_val; break;
        }
    }
    if (symtab == NULL || strtab == NULL) return 0;
    if (jmprel != NULL)
        guard_relocations(jmprel, jmprel_size / sizeof *jmprel, symtab, strtab, info->dlpi_addr, relro, relro_len,
                          &c->slots);
    if (rela != NULL)
        guard_relocations(rela, rela_size / sizeof *rela, symtab, strtab, info->dlpi_addr, relro, relro_len,
                          &c->slots);
    return 0;
}

int gorai_memory_guard_libraries(const char *name) {
    struct guard_call c = {name, 0};
    dl_iterate_phdr(guard_object, &c);
    return c.slots;
}
#else
int gorai_memory_guard_libraries(const char *name) {
    (void)name;
    return 0;
}
#endif
