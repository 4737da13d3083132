#define _GNU_SOURCE
#include "fault.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static _Atomic uint64_t finished; /* divisions finished so far */

_Atomic uint64_t *gorai_fault_counter(void) { return &finished; }

#if defined(__x86_64__)
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

/* The code the handler finishes divisions in: the executable segments of the backends' libraries. Added to
 * under adding (the backends open their libraries at once at the preload), read by the handler up to
 * nranges, which is published after its ranges. */
#define MAX_RANGES 64
static struct {
    uintptr_t start, end;
} ranges[MAX_RANGES];
static _Atomic int nranges;
static pthread_mutex_t adding = PTHREAD_MUTEX_INITIALIZER;

/* add_range adds [start, start + len) to the code the handler finishes divisions in, while there is room. */
static void add_range(uintptr_t start, size_t len) {
    int n = atomic_load(&nranges);
    if (n == MAX_RANGES) return;
    ranges[n].start = start;
    ranges[n].end = start + len;
    atomic_store(&nranges, n + 1);
}

static int add_object(struct dl_phdr_info *info, size_t size, void *name) {
    (void)size;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, name) == NULL) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) add_range(info->dlpi_addr + ph->p_vaddr, ph->p_memsz);
    }
    return 0;
}

/* add_libc_divisions adds the C library's division functions, which TorchScript's interpreter calls for a
 * script's integers (lldiv: -2^63 // -1 from a script ended Redis, found by a hunt). */
static void add_libc_divisions(void) {
    static const char *const names[] = {"div", "ldiv", "lldiv", "imaxdiv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *f = dlsym(RTLD_DEFAULT, names[i]);
        Dl_info info;
        const ElfW(Sym) *sym = NULL;
        if (f != NULL && dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) && sym != NULL) add_range((uintptr_t)f, sym->st_size);
    }
}

static bool in_backend(uintptr_t pc) {
    int n = atomic_load(&nranges);
    for (int i = 0; i < n; i++) {
        if (pc >= ranges[i].start && pc < ranges[i].end) return true;
    }
    return false;
}

/* The mcontext register of each register number of the instruction encoding (rax, rcx, ... r15). */
static const int reg_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                               REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

/* sign_extend is the width-bit value v as a signed 64-bit one. */
static int64_t sign_extend(uint64_t v, int width) {
    return width == 64 ? (int64_t)v : (int64_t)(v << (64 - width)) >> (64 - width);
}

/* finish_division decodes the instruction that faulted, a DIV or IDIV of 16, 32 or 64 bits (F7 /6 or /7,
 * what compilers emit for C's / and %), writes a result in its place into rAX (quotient) and rDX
 * (remainder), and moves past it; false, changing nothing, for anything else (byte-wide divisions,
 * segment or address-size prefixes: not emitted for a division of integers in C or C++). */
static bool finish_division(greg_t *r) {
    const uint8_t *pc = (const uint8_t *)r[REG_RIP], *p = pc;
    int width = 32, rex = 0;
    for (;; p++) {
        if (*p == 0x66) {
            width = 16;
        } else if (*p != 0xF0 && *p != 0xF2 && *p != 0xF3 && *p != 0x2E && *p != 0x3E && *p != 0x26 && *p != 0x36) {
            break;
        }
    }
    if ((*p & 0xF0) == 0x40) rex = *p++;
    if (rex & 8) width = 64;
    if (*p++ != 0xF7) return false;
    int mod = *p >> 6, op = (*p >> 3) & 7, rm = *p & 7;
    p++;
    if (op != 6 && op != 7) return false;
    uint64_t divisor = 0;
    if (mod == 3) {
        divisor = (uint64_t)r[reg_of[rm | (rex & 1) << 3]];
    } else {
        uintptr_t addr = 0;
        bool rip_relative = mod == 0 && rm == 5, disp32 = mod == 2 || rip_relative;
        if (rm == 4) {
            int sib = *p++, base = sib & 7, index = ((sib >> 3) & 7) | (rex & 2) << 2;
            if (index != 4) addr += (uintptr_t)r[reg_of[index]] << (sib >> 6);
            if (base == 5 && mod == 0) {
                disp32 = true;
            } else {
                addr += (uintptr_t)r[reg_of[base | (rex & 1) << 3]];
            }
        } else if (!rip_relative) {
            addr += (uintptr_t)r[reg_of[rm | (rex & 1) << 3]];
        }
        if (mod == 1) {
            addr += (uintptr_t)(int64_t)(int8_t)*p++;
        } else if (disp32) {
            int32_t disp;
            memcpy(&disp, p, sizeof disp);
            p += sizeof disp;
            addr += (uintptr_t)(int64_t)disp;
        }
        if (rip_relative) addr += (uintptr_t)p; /* the next instruction's address: these forms have no immediate */
        memcpy(&divisor, (const void *)addr, (size_t)width / 8); /* little-endian: the low bytes */
    }
    uint64_t mask = width == 64 ? ~(uint64_t)0 : ((uint64_t)1 << width) - 1;
    uint64_t lo = (uint64_t)r[REG_RAX] & mask, hi = (uint64_t)r[REG_RDX] & mask, q, rem;
    divisor &= mask;
    if (divisor == 0) {
        q = 0, rem = lo;
    } else if (op == 7) {
        __int128 n = (__int128)(((unsigned __int128)(uint64_t)sign_extend(hi, width) << width) | lo);
        int64_t d = sign_extend(divisor, width);
        if (d == -1) {
            q = (uint64_t)-(unsigned __int128)n, rem = 0;
        } else {
            q = (uint64_t)(n / d), rem = (uint64_t)(n % d);
        }
    } else {
        unsigned __int128 n = (unsigned __int128)hi << width | lo;
        q = (uint64_t)(n / divisor), rem = (uint64_t)(n % divisor);
    }
    q &= mask, rem &= mask;
    if (width == 16) {
        r[REG_RAX] = (greg_t)(((uint64_t)r[REG_RAX] & ~mask) | q);
        r[REG_RDX] = (greg_t)(((uint64_t)r[REG_RDX] & ~mask) | rem);
    } else { /* a 32-bit result clears the register's upper half */
        r[REG_RAX] = (greg_t)q;
        r[REG_RDX] = (greg_t)rem;
    }
    r[REG_RIP] = (greg_t)(uintptr_t)p;
    return true;
}

static struct sigaction before; /* SIGFPE's handler before ours */

static void on_fault(int sig, siginfo_t *info, void *context) {
    greg_t *r = ((ucontext_t *)context)->uc_mcontext.gregs;
    /* si_code > 0: the processor's fault, not a signal sent (kill, raise). */
    if (info->si_code > 0 && in_backend((uintptr_t)r[REG_RIP]) && finish_division(r)) {
        atomic_fetch_add(&finished, 1);
        return;
    }
    if (before.sa_flags & SA_SIGINFO) {
        before.sa_sigaction(sig, info, context);
    } else if (before.sa_handler != SIG_IGN && before.sa_handler != SIG_DFL) {
        before.sa_handler(sig);
    } else {
        /* The default action: end the process, as the fault would have. */
        sigaction(sig, &before, NULL);
        raise(sig);
    }
}

int gorai_fault_catch(const char *name) {
    pthread_mutex_lock(&adding);
    dl_iterate_phdr(add_object, (void *)name);
    /* Once: a second install would take ours for the handler before it. */
    static bool installed;
    if (!installed) {
        add_libc_divisions();
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        /* On the thread's signal stack, as Go's handler, which the others go on to, must run. */
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGFPE, &sa, &before);
        installed = true;
    }
    pthread_mutex_unlock(&adding);
    return 1;
}
#else
int gorai_fault_catch(const char *name) {
    (void)name;
    return 0;
}
#endif
