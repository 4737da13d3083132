package main

import (
	"testing"
	"time"
)

func TestParseLatencySummary(t *testing.T) {
	out := []byte("GET rtt: rps=0.0\r====== GET rtt ======\n  3000 requests completed\nSummary:\n" +
		"  throughput summary: 11673.15 requests per second\n  latency summary (msec):\n" +
		"          avg       min       p50       p95       p99       max\n" +
		"        0.080     0.032     0.079     0.103     0.127     1.879\n")
	p50, p99, err := parseLatencySummary(out)
	if err != nil || p50 != 79*time.Microsecond || p99 != 127*time.Microsecond {
		t.Fatalf("p50 %v p99 %v err %v", p50, p99, err)
	}
	if _, _, err := parseLatencySummary([]byte("ERR unknown command\n")); err == nil {
		t.Fatal("no summary, no error")
	}
}
