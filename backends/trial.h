/* A backend's trial program (trial.go): `PROGRAM LIBRARY`, started once, loads the runtime's library, then
 * serves trials one after another. For each blob Go writes on standard input (its length, 8 bytes little-
 * endian, then its bytes) it forks a child that tries the blob under a cap on its memory, so that what the
 * blob does to the runtime stays in the child and each trial starts from the freshly loaded runtime; and it
 * answers on standard output: the child's exit status (4 bytes little-endian: GORAI_TRIAL_TAKEN,
 * GORAI_TRIAL_REFUSED, GORAI_TRIAL_USAGE, or 128 + the signal that killed it), then what the child printed
 * (4 bytes of length, the bytes), after a first answer of its own once the library is open (see
 * gorai_trial_serve). The program ends when standard input does, also during a trial (killing the child). */
#ifndef GORAI_BACKENDS_TRIAL_H
#define GORAI_BACKENDS_TRIAL_H

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { GORAI_TRIAL_TAKEN = 0, GORAI_TRIAL_REFUSED = 1, GORAI_TRIAL_USAGE = 2 };

/* gorai_trial_fn tries a blob in the child: it prints the runtime's refusal on standard output and returns
 * the exit status. */
typedef int (*gorai_trial_fn)(const char *blob, size_t len);

static inline int gorai_trial_io(int fd, void *buf, size_t n, int writing) {
    for (size_t done = 0; done < n;) {
        ssize_t k = writing ? write(fd, (char *)buf + done, n - done) : read(fd, (char *)buf + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        done += (size_t)k;
    }
    return 0;
}

/* The room the memory cap leaves a model beside what the program maps, as messages say it. */
#define GORAI_TRIAL_ROOM "2 GiB or 16 times its size"

/* gorai_trial_cap_room caps the process' address space at what it maps now plus room bytes. */
static inline void gorai_trial_cap_room(size_t room) {
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    struct rlimit cap;
    if (!ok || getrlimit(RLIMIT_AS, &cap) != 0) return;
    rlim_t want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)room;
    if (cap.rlim_max == RLIM_INFINITY || want < cap.rlim_max) cap.rlim_cur = want;
    setrlimit(RLIMIT_AS, &cap);
}

/* gorai_trial_cap_memory caps the process' address space at what it maps now (the runtime's library and the
 * blob) plus room for a model of len bytes, GORAI_TRIAL_ROOM: a blob that makes the runtime
 * allocate without end then fails with the runtime's out-of-memory error, instead of taking the machine's
 * memory (a TorchScript archive with one byte of its pickle changed grew Redis to 24 GB). */
static inline void gorai_trial_cap_memory(size_t len) {
    size_t room = (size_t)2 << 30;
    if (len > room / 16) room = len * 16;
    gorai_trial_cap_room(room);
}

/* gorai_trial_first_to_kill makes the kernel's out-of-memory killer pick the child before Redis, whose
 * memory cgroup it shares, should the machine run short while the child holds what its cap allows. */
static inline void gorai_trial_first_to_kill(void) {
    FILE *f = fopen("/proc/self/oom_score_adj", "w");
    if (f == NULL) return;
    fputs("1000", f);
    fclose(f);
}

/* gorai_trial_refuse prints the runtime's refusal of a load (NULL: out of memory) of what ("model") and
 * returns GORAI_TRIAL_REFUSED; a failed allocation is said to be the cap's. */
static inline int gorai_trial_refuse(const char *backend, const char *what, const char *msg) {
    if (msg == NULL || strstr(msg, "bad_alloc") != NULL || strstr(msg, "can't allocate memory") != NULL)
        printf("ERR %s %s needs more memory to load than " GORAI_TRIAL_ROOM " when tried in a process of its own: %s\n",
               backend, what, msg ? msg : "out of memory");
    else
        printf("%s\n", msg);
    return GORAI_TRIAL_REFUSED;
}

/* gorai_trial_input_ended reports whether standard input has something to read while a child runs: Go writes
 * nothing then, so it is the end, Go closing it (a trial nobody waits for) or Redis gone. */
static inline int gorai_trial_input_ended(int fd) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
    while (poll(p, 2, -1) < 0)
        if (errno != EINTR) return 0;
    return (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* gorai_trial_answer reads what the child printed from fd (all of it, so that a long message does not end the
 * child with SIGPIPE; its first 4 KiB are kept), reaps it and answers Go. When standard input ends first, the
 * child is killed and reaped and the program ends: Go no longer waits for the answer, and only Go stops a
 * trial at its timeout (a model whose load never ended kept a child spinning for ever after Redis had gone). */
static inline int gorai_trial_answer(int out, pid_t child, int fd) {
    char msg[4096], rest[4096];
    size_t n = 0;
    for (;;) {
        if (gorai_trial_input_ended(fd)) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            return -1;
        }
        ssize_t k = n < sizeof msg ? read(fd, msg + n, sizeof msg - n) : read(fd, rest, sizeof rest);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        if (n < sizeof msg) n += (size_t)k;
    }
    close(fd);
    int ws;
    while (waitpid(child, &ws, 0) < 0)
        if (errno != EINTR) return -1;
    uint32_t head[2] = {WIFSIGNALED(ws) ? 128 + (uint32_t)WTERMSIG(ws) : (uint32_t)WEXITSTATUS(ws), (uint32_t)n};
    return gorai_trial_io(out, head, sizeof head, 1) == 0 && gorai_trial_io(out, msg, n, 1) == 0 ? 0 : -1;
}

/* gorai_trial_serve serves trials with try_blob until standard input ends; a library that did not open
 * (open_error) answers every trial GORAI_TRIAL_USAGE with the reason. */
static inline int gorai_trial_serve(const char *open_error, gorai_trial_fn try_blob) {
    int out = dup(STDOUT_FILENO); /* the answers' own descriptor: what the runtime prints goes to stderr */
    if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) return GORAI_TRIAL_USAGE;
    /* Ready (an answer of GORAI_TRIAL_TAKEN, no message, before any trial): the library is open, or could
     * not be, so that Go knows when a trial would not wait for the opening. */
    uint32_t ready[2] = {GORAI_TRIAL_TAKEN, 0};
    if (gorai_trial_io(out, ready, sizeof ready, 1) != 0) return GORAI_TRIAL_USAGE;
    for (;;) {
        uint64_t len;
        if (gorai_trial_io(STDIN_FILENO, &len, sizeof len, 0) != 0) return GORAI_TRIAL_TAKEN; /* Go is done */
        char *blob = malloc(len ? len : 1);
        if (blob == NULL || gorai_trial_io(STDIN_FILENO, blob, len, 0) != 0) return GORAI_TRIAL_USAGE;
        int p[2];
        if (pipe(p) != 0) return GORAI_TRIAL_USAGE;
        fflush(stdout);
        pid_t program = getpid();
        pid_t child = fork();
        if (child < 0) return GORAI_TRIAL_USAGE;
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* forked by the program's main thread, whose end is the program's */
            if (getppid() != program) _exit(GORAI_TRIAL_USAGE); /* it died before prctl */
            close(p[0]);
            close(out);
            if (dup2(p[1], STDOUT_FILENO) < 0) _exit(GORAI_TRIAL_USAGE);
            int status = GORAI_TRIAL_USAGE;
            if (open_error != NULL) {
                printf("%s\n", open_error);
            } else {
                gorai_trial_first_to_kill();
                gorai_trial_cap_memory((size_t)len);
                status = try_blob(blob, (size_t)len);
            }
            fflush(stdout);
            _exit(status);
        }
        close(p[1]);
        free(blob);
        if (gorai_trial_answer(out, child, p[0]) != 0) return GORAI_TRIAL_USAGE;
    }
}

/* gorai_trial_main is a trial program's main: open_library loads the library at argv[1] (0, or -1 with why
 * in err), then the program serves trials with try_blob. */
static inline int gorai_trial_main(int argc, char **argv, int (*open_library)(const char *path, char *err, size_t n),
                                   gorai_trial_fn try_blob) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY, then trials on standard input (backends/trial.h)\n", argv[0]);
        return GORAI_TRIAL_USAGE;
    }
    closefrom(3); /* what Redis leaves open across exec (its AOF file) is not the program's */
    char err[1024];
    return gorai_trial_serve(open_library(argv[1], err, sizeof err) == 0 ? NULL : err, try_blob);
}

#endif
