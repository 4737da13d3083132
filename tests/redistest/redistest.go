// Package redistest starts real redis-server processes, with the gorai module
// loaded, for integration tests and benchmarks.
//
// The server binary is redis-server from PATH (override with $REDIS_SERVER).
// The module is $GORAI_MODULE, or <repo>/build/gorai.so located relative to
// this source file. Each server listens on a free 127.0.0.1 port and keeps its
// data (RDB, AOF) in its own directory, so Restart reloads what it saved.
// Its stdout and stderr (which carry the Redis log, and any Go panic trace
// from the module) go to server.log in that directory; when a test using the
// server fails, the tail of that log is added to the test output.
package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorai/tests/resp"
)

// ModulePath returns the module to load: $GORAI_MODULE if set, else
// <repo>/build/gorai.so (absolute).
func ModulePath() string {
	if p := os.Getenv("GORAI_MODULE"); p != "" {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return filepath.Join(RepoRoot(), "build", "gorai.so")
}

// RepoRoot returns the repository root, found relative to this source file.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		wd, _ := os.Getwd()
		return wd
	}
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		return filepath.Join(filepath.Dir(file), "..", "..")
	}
	return root
}

// ServerBinary returns the redis-server to run: $REDIS_SERVER or redis-server from PATH.
func ServerBinary() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	return "redis-server"
}

// Options configure a server.
type Options struct {
	// NoModule starts a plain redis-server without the module.
	NoModule bool
	// ModulePath overrides ModulePath().
	ModulePath string
	// ModuleArgs are the load-time arguments written after the module path.
	ModuleArgs []string
	// Config holds extra redis.conf lines, e.g. "appendonly yes" or
	// "replicaof 127.0.0.1 6379". They come after the defaults and override them.
	Config []string
	// Dir is the data directory; by default a fresh temporary directory.
	Dir string
	// StartTimeout bounds the wait for the first PONG (default 30s).
	StartTimeout time.Duration
	// Cgroup is a cgroup folder (MemoryCgroup) the server is moved into as it starts.
	Cgroup string
}

// Server is a running (or stopped) redis-server.
type Server struct {
	opts    Options
	port    int
	dir     string
	ownsDir bool
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	werr error
}

// StartError says why a server did not come up.
type StartError struct {
	Reason   string
	ExitCode int // -1 if the process did not exit
	Log      string
}

func (e *StartError) Error() string {
	return fmt.Sprintf("redis-server did not start: %s (exit code %d)\n--- server log ---\n%s", e.Reason, e.ExitCode, e.Log)
}

// Start starts a server for a test and stops it when the test ends. It fails
// the test (with the server log) if the server does not answer PING.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	s, err := Launch(opts)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("--- log of redis-server on port %d (%s), last 64 KiB ---\n%s", s.port, s.logPath, s.LogTail(64*1024))
		}
		s.Stop()
	})
	return s
}

// Launch starts a server without a testing.TB (for benchmarks and for tests
// that expect the start to fail). The caller must call Stop; Stop removes the
// data directory if Launch created it.
func Launch(opts Options) (*Server, error) {
	s := &Server{opts: opts}
	if !opts.NoModule {
		mp := opts.ModulePath
		if mp == "" {
			mp = ModulePath()
		}
		if _, err := os.Stat(mp); err != nil {
			return nil, &StartError{Reason: fmt.Sprintf("module not found at %s (run `make build`, or set GORAI_MODULE): %v", mp, err), ExitCode: -1}
		}
		s.opts.ModulePath = mp
	}
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "gorai-redis-")
		if err != nil {
			return nil, err
		}
		s.dir = d
		s.ownsDir = true
	} else {
		d, err := filepath.Abs(opts.Dir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		s.dir = d
	}
	s.logPath = filepath.Join(s.dir, "server.log")

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		s.port = port
		if err := os.WriteFile(s.confPath(), []byte(s.configText()), 0o644); err != nil {
			return nil, err
		}
		lastErr = s.start()
		if lastErr == nil {
			return s, nil
		}
		var se *StartError
		if errors.As(lastErr, &se) && strings.Contains(se.Log, "Address already in use") {
			continue
		}
		break
	}
	if s.ownsDir {
		// Keep the log in the error; the directory is no longer needed.
		_ = os.RemoveAll(s.dir)
	}
	return nil, lastErr
}

// FreePort is a TCP port on 127.0.0.1 that nothing listened on a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// quoteConf quotes a redis.conf argument when needed.
func quoteConf(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n\"'\\") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c >= 0x7f {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (s *Server) configText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "port %d\n", s.port)
	b.WriteString("bind 127.0.0.1\n")
	fmt.Fprintf(&b, "dir %s\n", quoteConf(s.dir))
	b.WriteString("daemonize no\n")
	b.WriteString("logfile \"\"\n")
	b.WriteString("loglevel notice\n")
	b.WriteString("save \"\"\n")
	b.WriteString("appendonly no\n")
	b.WriteString("protected-mode no\n")
	if !s.opts.NoModule {
		b.WriteString("loadmodule ")
		b.WriteString(quoteConf(s.opts.ModulePath))
		for _, a := range s.opts.ModuleArgs {
			b.WriteByte(' ')
			b.WriteString(quoteConf(a))
		}
		b.WriteByte('\n')
	}
	for _, line := range s.opts.Config {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func (s *Server) confPath() string { return filepath.Join(s.dir, "redis.conf") }

// start runs redis-server on the config file in the data directory. The file
// is written once by Launch, so a CONFIG REWRITE survives Restart.
func (s *Server) start() error {
	conf := s.confPath()
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== gorai redistest: starting %s %s (port %d) at %s ===\n", ServerBinary(), conf, s.port, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(ServerBinary(), conf)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return &StartError{Reason: "exec: " + err.Error(), ExitCode: -1, Log: s.Log()}
	}
	if s.opts.Cgroup != "" {
		if err := joinCgroup(s.opts.Cgroup, cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			logf.Close()
			return &StartError{Reason: "cgroup: " + err.Error(), ExitCode: -1, Log: s.Log()}
		}
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd = cmd
	s.done = done
	s.werr = nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.werr = err
		s.mu.Unlock()
		close(done)
	}()

	timeout := s.opts.StartTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-done:
			code := -1
			if cmd.ProcessState != nil {
				code = cmd.ProcessState.ExitCode()
			}
			return &StartError{Reason: "process exited before answering PING", ExitCode: code, Log: s.Log()}
		default:
		}
		if c, err := resp.Dial(s.Addr()); err == nil {
			c.SetTimeout(2 * time.Second)
			v, err := c.Do("PING")
			c.Close()
			if err == nil && v.Kind == resp.SimpleString && v.Text() == "PONG" {
				return nil
			}
			if err != nil {
				last = err.Error()
			} else {
				last = v.String()
			}
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill()
	return &StartError{Reason: "no PONG within " + timeout.String() + " (last: " + last + ")", ExitCode: -1, Log: s.Log()}
}

// Addr returns "127.0.0.1:<port>".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port returns the TCP port.
func (s *Server) Port() int { return s.port }

// Dir returns the data directory.
func (s *Server) Dir() string { return s.dir }

// LogPath returns the path of the server log.
func (s *Server) LogPath() string { return s.logPath }

// PID returns the process id of the running server (0 if none).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the process is still alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Log returns the whole server log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// LogTail returns at most the last n bytes of the server log.
func (s *Server) LogTail(n int) string {
	l := s.Log()
	if len(l) > n {
		return "...\n" + l[len(l)-n:]
	}
	return l
}

// Dial opens a new connection to the server.
func (s *Server) Dial() (*resp.Conn, error) { return resp.Dial(s.Addr()) }

// Conn opens a connection that is closed when the test ends.
func (s *Server) Conn(tb testing.TB) *resp.Conn {
	tb.Helper()
	c, err := s.Dial()
	if err != nil {
		tb.Fatalf("dial %s: %v", s.Addr(), err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Stop terminates the server gracefully (SIGTERM; SIGKILL after 20s) and
// waits for it. With the default "save \"\"" nothing is saved on the way
// out; an enabled AOF is flushed. Stop does not remove the data directory
// unless the server was made by Launch with no Dir.
func (s *Server) Stop() {
	s.stop(syscall.SIGTERM, 20*time.Second)
	if s.ownsDir {
		_ = os.RemoveAll(s.dir)
		s.ownsDir = false
	}
}

func (s *Server) kill() { s.stop(syscall.SIGKILL, 10*time.Second) }

// Kill ends the server at once with SIGKILL (nothing is saved).
func (s *Server) Kill() { s.kill() }

func (s *Server) stop(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil || done == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart stops the server and starts it again on the same port with the
// same directory and config file (including any CONFIG REWRITE), so it
// reloads its RDB or AOF. It waits
// until PING answers PONG (i.e. loading has finished).
func (s *Server) Restart() error {
	s.stop(syscall.SIGTERM, 20*time.Second)
	return s.start()
}

// ExitCode returns the exit code after the process ended (-1 while running).
func (s *Server) ExitCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.ProcessState == nil {
		return -1
	}
	return s.cmd.ProcessState.ExitCode()
}

// Info runs INFO <section> on a fresh connection and returns the fields
// (name -> value) of the reply.
func (s *Server) Info(section string) (map[string]string, error) {
	c, err := s.Dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	v, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	if v.Kind != resp.Bulk {
		return nil, fmt.Errorf("INFO %s: unexpected reply %v", section, v)
	}
	return ParseInfo(v.Text()), nil
}

// InfoSection is one "# name" section of an INFO reply, fields in order.
type InfoSection struct {
	Name   string
	Fields [][2]string
}

// ParseInfoSections splits an INFO reply into its sections, keeping order.
func ParseInfoSections(text string) []InfoSection {
	var out []InfoSection
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "# ") {
			out = append(out, InfoSection{Name: strings.TrimPrefix(line, "# ")})
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if len(out) == 0 {
			out = append(out, InfoSection{})
		}
		out[len(out)-1].Fields = append(out[len(out)-1].Fields, [2]string{k, v})
	}
	return out
}

// ParseInfo returns all fields of an INFO reply as a map.
func ParseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, sec := range ParseInfoSections(text) {
		for _, f := range sec.Fields {
			m[f[0]] = f[1]
		}
	}
	return m
}
