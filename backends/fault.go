package backends

import "fmt"

// A run that a fault stopped (an integer division the processor refuses, caught on the run's thread by
// tensor/fault.h) leaves the runtime's state of that run as the fault left it: the model or script is
// set aside, its later runs refused and its handle never freed, until it is stored again.

// FaultError is the error of the run a fault stopped: backend's name, the library it ran in, and what
// ran ("model" or "script").
func FaultError(backend, library, what string) error {
	return fmt.Errorf("ERR %s run stopped on an integer division by zero or overflow (SIGFPE in %s): store the %s again to run it",
		backend, library, what)
}

// SetAsideError refuses the later runs of a model or script set aside.
func SetAsideError(backend, what string) error {
	return fmt.Errorf("ERR %s %s was stopped by a fault in an earlier run: store it again to run it", backend, what)
}
