package redistest

import (
	"errors"
	"strings"
	"testing"

	"gorai/tests/resp"
)

// These tests check the harness itself against a plain redis-server (no module).

func TestStartRestartPlain(t *testing.T) {
	s := Start(t, Options{NoModule: true, Config: []string{"appendonly yes"}})
	c := s.Conn(t)
	v, err := c.Do("SET", "k", "v\x00v")
	if err != nil || !resp.Equal(v, resp.Simple("OK")) {
		t.Fatalf("SET: %v %v", v, err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	c = s.Conn(t)
	v, err = c.Do("GET", "k")
	if err != nil || !resp.Equal(v, resp.BulkString("v\x00v")) {
		t.Fatalf("GET after restart (AOF): %v %v", v, err)
	}
	if !strings.Contains(s.Log(), "Ready to accept connections") {
		t.Errorf("log does not look like a redis log:\n%s", s.Log())
	}
	ri, err := s.Info("server")
	if err != nil || ri["tcp_port"] == "" {
		t.Errorf("Info: %v %v", ri, err)
	}
}

func TestLaunchFailureReportsLog(t *testing.T) {
	_, err := Launch(Options{NoModule: true, Config: []string{"no-such-directive yes"}, Dir: t.TempDir()})
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("want StartError, got %v", err)
	}
	if se.ExitCode == 0 || !strings.Contains(se.Log, "no-such-directive") {
		t.Errorf("StartError: code %d, log:\n%s", se.ExitCode, se.Log)
	}
}

func TestModuleMissing(t *testing.T) {
	_, err := Launch(Options{ModulePath: "/nonexistent/gorai.so"})
	if err == nil || !strings.Contains(err.Error(), "module not found") {
		t.Fatalf("want a module-not-found error, got %v", err)
	}
}

func TestParseInfoSections(t *testing.T) {
	secs := ParseInfoSections("# A\r\na:1\r\nb:x:y\r\n\r\n# B\r\nc:3\r\n")
	if len(secs) != 2 || secs[0].Name != "A" || len(secs[0].Fields) != 2 || secs[0].Fields[1] != [2]string{"b", "x:y"} || secs[1].Fields[0] != [2]string{"c", "3"} {
		t.Errorf("%+v", secs)
	}
}
