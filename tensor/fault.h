/* Faults inside a backend's run (fault.c): an integer division the processor refuses (SIGFPE: a division by
 * zero, or INT_MIN / -1, which ONNX Runtime's Div and Mod and libtorch's div compute for inputs any client
 * sends) in a backend library's code or the C library's div, ldiv, lldiv and imaxdiv (which TorchScript's
 * interpreter calls for a script's integers), on whatever thread (the run's own, or a runtime's pool of intra-op
 * threads), is finished by the handler instead of ending Redis: the division's result is made up (quotient
 * 0 for a division by zero, the wrapped quotient for an overflow, as arm64 computes them without a fault),
 * the instruction skipped, and the fault counted. A run during which the count changed fails: the runtime's
 * state is intact (nothing was unwound), so the model or script stays usable.
 *
 *     uint64_t before = atomic_load(gorai_fault_counter());
 *     ... the run ...
 *     if (atomic_load(gorai_fault_counter()) != before) fail the run;
 *
 * Other signals, faults in other code (Redis', Go's: Go turns its own into panics), and divisions the
 * handler cannot decode go on to the handler installed before: Go's, which passes those not its own to
 * Redis' (its crash report). x86-64 only: arm64 does not fault on integer division. */
#ifndef GORAI_TENSOR_FAULT_H
#define GORAI_TENSOR_FAULT_H

#include <stdint.h>

/* gorai_fault_catch installs the handler, once, after Go's runtime has installed its own, and adds the code
 * of the loaded libraries whose file name contains name to the code it finishes divisions in. 1 when it did
 * both, 0 where it cannot (not x86-64). */
int gorai_fault_catch(const char *name);
/* gorai_fault_counter is where the number of divisions finished so far is counted (read it atomically). */
_Atomic uint64_t *gorai_fault_counter(void);

#endif
