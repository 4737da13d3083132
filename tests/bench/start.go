package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gorai/tests/redistest"
)

// startPoll is how often the start suite tries a fresh connection and PING while the server comes up.
const startPoll = 200 * time.Microsecond

// startVariant is one way of starting redis-server: plain (no module), or with a module and its
// arguments.
type startVariant struct {
	name       string
	module     string
	moduleArgs []string
}

// startVariants are plain redis-server, then each module as configured by default and with the
// background preload of the backends turned off.
func startVariants(modules []string) []startVariant {
	vs := []startVariant{{name: "plain redis-server"}}
	for _, m := range modules {
		vs = append(vs,
			startVariant{name: m, module: m},
			startVariant{name: m + " PRELOAD_BACKENDS no", module: m, moduleArgs: []string{"PRELOAD_BACKENDS", "no"}})
	}
	return vs
}

// startSample is one start: exec to first +PONG, the CPU time all the process' threads had used by
// then (less sensitive than the wall time to other load on the machine), VmRSS right after it, and
// VmRSS after the settle time (once the background preload of the backends, if on, has had time
// to run), and for a module the round trips of its first two AI.* commands (what loading its Go
// library at first need costs the first).
type startSample struct {
	pong, cpu         time.Duration
	rssPong, rssLater int64
	// firstAI and nextAI: a module variant's first AI.CONFIG GET after the RSS readings (with
	// PRELOAD_BACKENDS no, it loads the module's Go library) and the one after it.
	firstAI, nextAI time.Duration
}

// benchStart starts each variant once per round, repeats rounds, and prints the medians and the ratio of
// each to plain redis-server; 1 on a failure. modules are the module files to compare (the first is
// the one under test; more, e.g. an older build, run interleaved with it on the same machine state).
// Every server runs on the repository's redis.conf (the one `make run` uses) with its loadmodule
// line taken out and, for the module variants, put back with the module's absolute path; only the
// port, a fresh dir, `save ""` (no RDB at exit) and the log file are added.
func benchStart(modules []string, repeats int, settle time.Duration) int {
	base, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "redis.conf"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	variants := startVariants(modules)
	samples := make([][]startSample, len(variants))
	// Each round starts every variant once, in a new order: none always follows the same one (a
	// preloading server's exit still weighs on the machine when the next starts).
	rng := rand.New(rand.NewPCG(1, 2))
	for range repeats {
		for _, i := range rng.Perm(len(variants)) {
			v := variants[i]
			s, err := startOnce(base, v, settle)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", v.name, err)
				return 1
			}
			samples[i] = append(samples[i], s)
		}
	}
	fmt.Printf("start: exec to first +PONG (fresh connection + PING every %v) and VmRSS, median of %d rounds (each server once per round, in shuffled order), %s, repo redis.conf\n",
		startPoll, repeats, redistest.ServerBinary())
	width := 0
	for _, v := range variants {
		width = max(width, len(v.name))
	}
	fmt.Printf("%-*s %8s %6s %7s %6s %12s %6s %14s %20s\n", width, "server", "PONG ms", "ratio", "CPU ms", "ratio", "RSS@PONG MB", "ratio",
		fmt.Sprintf("RSS@+%v MB", settle), "AI.CONFIG 1st/2nd ms")
	plain := medianSample(samples[0])
	for i, v := range variants {
		m := medianSample(samples[i])
		ai := "-"
		if v.module != "" {
			ai = fmt.Sprintf("%.2f / %.2f", ms(m.firstAI), ms(m.nextAI))
		}
		fmt.Printf("%-*s %8.1f %6.2f %7.1f %6.2f %12.1f %6.2f %14.1f %20s\n", width, v.name,
			ms(m.pong), ms(m.pong)/ms(plain.pong), ms(m.cpu), ms(m.cpu)/ms(plain.cpu),
			float64(m.rssPong)/1e6, float64(m.rssPong)/float64(plain.rssPong), float64(m.rssLater)/1e6, ai)
	}
	return 0
}

// startOnce starts one server, measures it and stops it.
func startOnce(base []byte, v startVariant, settle time.Duration) (startSample, error) {
	dir, err := os.MkdirTemp("", "gorai-start-")
	if err != nil {
		return startSample{}, err
	}
	defer os.RemoveAll(dir)
	port, err := redistest.FreePort()
	if err != nil {
		return startSample{}, err
	}
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, startConfig(base, v, port, dir), 0o644); err != nil {
		return startSample{}, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(redistest.ServerBinary(), conf)
	cmd.Dir = dir
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return startSample{}, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	var s startSample
	for !pong(addr) {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return s, fmt.Errorf("redis-server exited before answering PING:\n%s", log)
		default:
		}
		if time.Since(begin) > 30*time.Second {
			return s, errors.New("no PONG within 30s")
		}
		time.Sleep(startPoll)
	}
	s.pong = time.Since(begin)
	if s.cpu, err = liveThreadsCPU(cmd.Process.Pid); err != nil {
		return s, err
	}
	if s.rssPong, err = vmRSS(cmd.Process.Pid); err != nil {
		return s, err
	}
	time.Sleep(settle)
	if s.rssLater, err = vmRSS(cmd.Process.Pid); err != nil || v.module == "" {
		return s, err
	}
	s.firstAI, s.nextAI, err = firstAICommands(addr)
	return s, err
}

// firstAICommands times two AI.CONFIG GETs on one connection, each a round trip.
func firstAICommands(addr string) (first, next time.Duration, err error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	roundTrip := func() (time.Duration, error) {
		begin := time.Now()
		if _, err := c.Write([]byte("AI.CONFIG GET MODEL_CHUNK_SIZE\r\n")); err != nil {
			return 0, err
		}
		line, err := r.ReadString('\n')
		if err == nil && !strings.HasPrefix(line, ":") {
			err = fmt.Errorf("AI.CONFIG GET MODEL_CHUNK_SIZE: %q", line)
		}
		return time.Since(begin), err
	}
	if first, err = roundTrip(); err != nil {
		return 0, 0, err
	}
	next, err = roundTrip()
	return first, next, err
}

// startConfig is base without its loadmodule lines, then the variant's module and the run's own
// port, dir, log file and no RDB save.
func startConfig(base []byte, v startVariant, port int, dir string) []byte {
	var b bytes.Buffer
	for line := range bytes.Lines(base) {
		if f := bytes.Fields(line); len(f) > 0 && bytes.EqualFold(f[0], []byte("loadmodule")) {
			continue
		}
		b.Write(line)
	}
	fmt.Fprintf(&b, "\nport %d\ndir %q\nlogfile %q\nsave \"\"\n", port, dir, filepath.Join(dir, "server.log"))
	if v.module != "" {
		abs, _ := filepath.Abs(v.module)
		fmt.Fprintf(&b, "loadmodule %q %s\n", abs, strings.Join(v.moduleArgs, " "))
	}
	return b.Bytes()
}

// pong dials addr afresh and reports whether PING answered +PONG.
func pong(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// vmRSS is the process' resident set in bytes, from /proc/<pid>/status.
func vmRSS(pid int) (int64, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// medianSample is the median of each measure on its own.
func medianSample(ss []startSample) startSample {
	return startSample{
		pong:     time.Duration(medianBy(ss, func(s startSample) float64 { return float64(s.pong) })),
		cpu:      time.Duration(medianBy(ss, func(s startSample) float64 { return float64(s.cpu) })),
		rssPong:  int64(medianBy(ss, func(s startSample) float64 { return float64(s.rssPong) })),
		rssLater: int64(medianBy(ss, func(s startSample) float64 { return float64(s.rssLater) })),
		firstAI:  time.Duration(medianBy(ss, func(s startSample) float64 { return float64(s.firstAI) })),
		nextAI:   time.Duration(medianBy(ss, func(s startSample) float64 { return float64(s.nextAI) })),
	}
}
