package backends

import "fmt"

// FaultError is the error of a run during which an integer division faulted in a backend's library
// (tensor.Faults changed): a division by zero or INT_MIN / -1, finished with a made-up result instead of
// ending Redis (tensor/fault.h). backend is the run's, library the one it ran in. The runtime's state is
// intact: the model or script runs again.
func FaultError(backend, library string) error {
	return fmt.Errorf("ERR %s run failed: an integer division by zero or overflow (SIGFPE in %s)", backend, library)
}
