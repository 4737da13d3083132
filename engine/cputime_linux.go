package engine

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPUTimeOf is the CPU time OS thread tid of this process has used: its CPU clock, which
// Linux numbers ^tid<<3 | 6 (a per-thread clock, of the scheduler's time), as
// pthread_getcpuclockid does.
func threadCPUTimeOf(tid int) time.Duration {
	var ts syscall.Timespec
	// A raw call: clock_gettime does not block, so the scheduler need not know.
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, ^uintptr(tid)<<3|6, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
