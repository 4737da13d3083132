package server

import (
	"os"
	"runtime/debug"
	"time"

	"gorai/backends"
)

// Preload opens, on goroutines, every backend whose library is in place and that the module's
// arguments did not load already, so that a client's first AI.MODELSTORE does not wait for the
// library (TORCH and TF take about a second, more than SmartRedis' 250 ms socket timeout, and the
// client then logs an IO error and sends the command again). A store arriving meanwhile waits for
// the opening in progress (backends.Load) instead of opening the library a second time. Redis' main
// thread never waits, and no Go runs in its forked children, so BGSAVE and replication go on.
// The module calls it once the server has started, not at its load: while a library is being
// opened, glibc holds the lock that creating a thread takes, and the server's own threads (created
// after the modules load) would wait for it, delaying its first reply by a second or more.
// Each opening is an engine task (Engine.Go): the exit waits for it before the libraries are torn
// down.
func (s *Server) Preload() {
	if !s.Config.PreloadBackends {
		return
	}
	for _, name := range backends.Names() {
		path := s.LibraryPath(name)
		if backends.Loaded(name) != nil || !isFile(path) {
			continue
		}
		// One goroutine each: a quick library (ONNX Runtime) is not held up behind a slow one (TF), nor
		// behind builds (Background's slots).
		s.Engine.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					s.Log("warning", "gorai: panic preloading %s: %v\n%s", name, p, debug.Stack())
				}
			}()
			start := time.Now()
			if b, err := backends.Preload(name, path); err != nil {
				s.Log("warning", "gorai: preloading: %v", err)
			} else if b != nil {
				s.Log("notice", "gorai: backend %s %s preloaded from %s in %v", name, b.Version(), path, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}

// isFile reports whether path names a regular file (following links).
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
