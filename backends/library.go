package backends

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// Library is a backend's shared library, opened at most once per process (a library cannot be
// unloaded): opening it again from the same path does nothing, from another path is an error, and
// a failed open leaves nothing behind, so it can be tried again.
type Library struct {
	Name string // what the messages call it, e.g. "TensorFlow"
	Hint string // said when the file does not exist, e.g. "build/fetch-tensorflow.sh fetches it"

	mu   sync.Mutex
	path string // "" until opened
}

// Open calls open(path) unless the library is open already.
func (l *Library) Open(path string, open func(path string) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path != "" {
		if path != l.path {
			return fmt.Errorf("%s is already loaded from %s", l.Name, l.path)
		}
		return nil
	}
	if strings.Contains(path, "/") {
		// The common failure, said plainly (dlopen's text repeats the path).
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w (%s)", fs.ErrNotExist, l.Hint)
		}
	}
	if err := open(path); err != nil {
		return err
	}
	l.path = path
	return nil
}

// IsOpen reports whether the library has been opened.
func (l *Library) IsOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.path != ""
}
