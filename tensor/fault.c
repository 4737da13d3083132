#define _GNU_SOURCE
#include "fault.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The innermost guard of the thread's run in progress (NULL: none). */
static __thread gorai_fault_scope *current;
static struct sigaction before; /* SIGFPE's handler before ours */

static void on_fault(int sig, siginfo_t *info, void *uc) {
    gorai_fault_scope *scope = current;
    /* si_code > 0: the processor's fault, not a signal sent (kill, raise). */
    if (scope != NULL && info->si_code > 0) {
        current = scope->outer;
        siglongjmp(scope->env, sig);
    }
    if (before.sa_flags & SA_SIGINFO) {
        before.sa_sigaction(sig, info, uc);
    } else if (before.sa_handler != SIG_IGN && before.sa_handler != SIG_DFL) {
        before.sa_handler(sig);
    } else {
        /* The default action: end the process, as the fault would have. */
        sigaction(sig, &before, NULL);
        raise(sig);
    }
}

int gorai_fault_catch(void) {
    /* Once, though backends open their libraries at once (the preload): a second install would take
     * ours for the handler before it. */
    static atomic_bool caught;
    if (atomic_exchange(&caught, true)) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    /* On the thread's signal stack, as Go's handler, which the others go on to, must run. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, &before);
    return 1;
}

void gorai_fault_enter(gorai_fault_scope *scope) {
    scope->outer = current;
    current = scope;
}

void gorai_fault_leave(gorai_fault_scope *scope) { current = scope->outer; }

gorai_fault_scope *gorai_fault_suspend(void) {
    gorai_fault_scope *scope = current;
    current = NULL;
    return scope;
}

void gorai_fault_resume(gorai_fault_scope *scope) { current = scope; }
