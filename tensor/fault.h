/* Faults inside a backend's run (fault.c): an integer division the processor refuses (SIGFPE: INT_MIN / -1,
 * which ONNX Runtime's Div and Mod and libtorch's div compute for inputs any client sends) stops the run,
 * not Redis. A run is guarded on the thread that makes it: a fault there, in the backend's own code,
 * returns to where the guard was set, the innermost one (a TorchScript script's redisAI.model_execute runs
 * an ONNX model within the script's run). Other signals, faults on other threads (a runtime's own pool)
 * and faults in Go code (Go turns its own into panics) go on to the handler installed before: Go's, which
 * passes those not its own to Redis' (its crash report).
 *
 *     gorai_fault_scope scope;
 *     int sig = sigsetjmp(scope.env, 1);
 *     if (sig != 0) return fail(sig);   // the run's state is as the fault left it: do not run it again
 *     gorai_fault_enter(&scope);
 *     ... the run ...
 *     gorai_fault_leave(&scope);
 *
 * Code the run calls back into Go through is bracketed by gorai_fault_suspend/gorai_fault_resume. */
#ifndef GORAI_TENSOR_FAULT_H
#define GORAI_TENSOR_FAULT_H

#include <setjmp.h>

typedef struct gorai_fault_scope {
    sigjmp_buf env;
    struct gorai_fault_scope *outer;
} gorai_fault_scope;

/* gorai_fault_catch installs the handler, once, after Go's runtime has installed its own; 1 when this
 * call installed it. */
int gorai_fault_catch(void);
void gorai_fault_enter(gorai_fault_scope *scope);
void gorai_fault_leave(gorai_fault_scope *scope);
/* gorai_fault_suspend lifts the thread's guards while Go runs (returning them), gorai_fault_resume sets them back. */
gorai_fault_scope *gorai_fault_suspend(void);
void gorai_fault_resume(gorai_fault_scope *scope);

#endif
