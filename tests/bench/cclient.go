package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// cClientLatency is the p50 and p99 that redis-benchmark measures for n requests of args over one
// connection: a C client that waits in a blocking read, as SmartRedis' clients do (the Go client's
// idle threads spin on another core meanwhile, which changes what a 1-client loop sees on 2 cores).
// ok is false when redis-benchmark is not installed.
func cClientLatency(port, n int, args ...string) (p50, p99 time.Duration, ok bool, err error) {
	path, lookErr := exec.LookPath("redis-benchmark")
	if lookErr != nil {
		return 0, 0, false, nil
	}
	cmd := exec.Command(path, append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-c", "1",
		"-n", strconv.Itoa(n), "--precision", "3"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, true, fmt.Errorf("redis-benchmark: %v", err)
	}
	p50, p99, err = parseLatencySummary(out)
	return p50, p99, true, err
}

// parseLatencySummary reads redis-benchmark's "latency summary (msec):" block: a header line
// (avg min p50 p95 p99 max) and a line of values in milliseconds.
func parseLatencySummary(out []byte) (p50, p99 time.Duration, err error) {
	sc := bufio.NewScanner(bytes.NewReader(bytes.ReplaceAll(out, []byte("\r"), []byte("\n"))))
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "latency summary (msec)") {
			continue
		}
		if !sc.Scan() {
			break
		}
		names := strings.Fields(sc.Text())
		if !sc.Scan() {
			break
		}
		values := strings.Fields(sc.Text())
		ms := func(name string) (time.Duration, error) {
			for i, n := range names {
				if n == name && i < len(values) {
					v, err := strconv.ParseFloat(values[i], 64)
					return time.Duration(v * float64(time.Millisecond)), err
				}
			}
			return 0, fmt.Errorf("redis-benchmark: no %s in its latency summary", name)
		}
		if p50, err = ms("p50"); err != nil {
			return 0, 0, err
		}
		p99, err = ms("p99")
		return p50, p99, err
	}
	return 0, 0, fmt.Errorf("redis-benchmark: no latency summary in its output")
}
