package main

// The tensor suite: AI.TENSORSET and AI.TENSORGET against SET and GET of the same bytes, on one
// server, over loopback TCP, as the ratios of issue 11's target 2. Each row runs the plain
// workload and then the tensor one, back to back, repeats times; it prints the median rates and the
// median of the per-repeat ratios (TENSOR / plain). Every reply is checked (+OK, or a bulk string of
// the payload's length).
//
// Beside the throughput, each run measures the CPU time Redis' main thread spent per op (its
// schedstat, Linux): on a machine shared with other work, throughput ratios move with the load, while
// the main thread's time per op, which bounds the throughput once that thread is saturated, moves much
// less. "cpu ratio" is plain's time per op over TENSOR's: the throughput ratio a saturated main thread
// allows.

import (
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// A workload is what each connection sends per op: one command, or a set and a get of its key.
type workload struct {
	name string
	op   func(key string, data []byte) []step
	// setsKey: the op writes the key; otherwise it is set before the run (with prepare).
	setsKey bool
}

// A step is one command of an op, and whether it reads (a bulk reply of the payload) or writes (+OK).
type step struct {
	args  []any
	reads bool
}

func setStep(k string, d []byte) step       { return step{[]any{"SET", k, d}, false} }
func getStep(k string) step                 { return step{[]any{"GET", k}, true} }
func tensorSetStep(k string, d []byte) step { return step{tensorSetCommand(k, d), false} }
func tensorGetStep(k string) step           { return step{[]any{"AI.TENSORGET", k, "BLOB"}, true} }

var (
	plainSet     = workload{"SET", func(k string, d []byte) []step { return []step{setStep(k, d)} }, true}
	plainGet     = workload{"GET", func(k string, d []byte) []step { return []step{getStep(k)} }, false}
	plainSetGet  = workload{"SET+GET", func(k string, d []byte) []step { return []step{setStep(k, d), getStep(k)} }, true}
	tensorSet    = workload{"TENSORSET", func(k string, d []byte) []step { return []step{tensorSetStep(k, d)} }, true}
	tensorGet    = workload{"TENSORGET", func(k string, d []byte) []step { return []step{tensorGetStep(k)} }, false}
	tensorSetGet = workload{"TENSORSET+TENSORGET", func(k string, d []byte) []step {
		return []step{tensorSetStep(k, d), tensorGetStep(k)}
	}, true}
)

func tensorSetCommand(key string, data []byte) []any {
	return []any{"AI.TENSORSET", key, "FLOAT", strconv.Itoa(len(data) / 4), "BLOB", data}
}

// prepare is the write that makes a read-only workload's key: plain for plain workloads.
func (w workload) prepare(key string, data []byte, plain bool) []any {
	if plain {
		return []any{"SET", key, data}
	}
	return tensorSetCommand(key, data)
}

// tensorRow is one row of the suite: a tensor workload against its plain twin.
type tensorRow struct {
	payload           string
	bytes             int
	plain, tensor     workload
	clients, pipeline int
}

// tensorRows are the rows: 16 floats (64 bytes) set and got apart, 50 clients with and
// without a pipeline of 32; 1 MiB set+get pairs with 1 and 8 connections.
var tensorRows = []tensorRow{
	{"16 x float32", 64, plainSet, tensorSet, 50, 1},
	{"16 x float32", 64, plainSet, tensorSet, 50, 32},
	{"16 x float32", 64, plainGet, tensorGet, 50, 1},
	{"16 x float32", 64, plainGet, tensorGet, 50, 32},
	{"1 MiB float32", 1 << 20, plainSetGet, tensorSetGet, 1, 1},
	{"1 MiB float32", 1 << 20, plainSetGet, tensorSetGet, 8, 1},
}

// benchTensors prints the suite's table; 1 if a row failed.
func benchTensors(module string, duration, warmup time.Duration, repeats int) int {
	srv, err := redistest.Launch(redistest.Options{ModulePath: module, Config: []string{"maxclients 1000"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	fmt.Printf("redis-server %s on %s, module %s, %v per run (after %v warm-up), %d repeats\n", redistest.ServerBinary(), srv.Addr(), module, duration, warmup, repeats)
	fmt.Println("ops/s: one op is one command (a pair for the 1 MiB rows); medians; ratio = median of TENSOR / plain per repeat;")
	fmt.Println("µs/op: Redis' main thread's CPU time per op; cpu ratio = median of plain µs/op / TENSOR µs/op per repeat")
	fmt.Printf("%-14s %-20s %7s %8s %12s %12s %6s %-16s %8s %8s %9s %s\n", "payload", "tensor op", "clients", "pipeline",
		"plain ops/s", "TENSOR ops/s", "ratio", "ratios", "plain µs", "TENSOR µs", "cpu ratio", "cpu ratios")
	rng := rand.New(rand.NewSource(1))
	status := 0
	for _, row := range tensorRows {
		data := make([]byte, row.bytes)
		rng.Read(data)
		var plainRates, tensorRates, ratios, plainCPU, tensorCPU, cpuRatios []float64
		for r := 0; r < repeats && status == 0; r++ {
			var rates, cpu [2]float64
			for i, w := range []workload{row.plain, row.tensor} {
				if warmup > 0 {
					if _, _, err = runWorkload(srv, w, i == 0, data, row.clients, row.pipeline, warmup); err != nil {
						break
					}
				}
				if rates[i], cpu[i], err = runWorkload(srv, w, i == 0, data, row.clients, row.pipeline, duration); err != nil {
					break
				}
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s %s clients=%d pipeline=%d: %v\n", row.payload, row.tensor.name, row.clients, row.pipeline, err)
				if !srv.Running() {
					fmt.Fprintf(os.Stderr, "redis-server died; log tail:\n%s\n", srv.LogTail(8192))
					return 1
				}
				status = 1
				break
			}
			plainRates, tensorRates = append(plainRates, rates[0]), append(tensorRates, rates[1])
			ratios = append(ratios, rates[1]/rates[0])
			plainCPU, tensorCPU = append(plainCPU, cpu[0]), append(tensorCPU, cpu[1])
			cpuRatios = append(cpuRatios, cpu[0]/cpu[1])
		}
		if len(ratios) == repeats {
			fmt.Printf("%-14s %-20s %7d %8d %12.0f %12.0f %6.2f %-16s %8.2f %8.2f %9.2f %s\n", row.payload, row.tensor.name, row.clients, row.pipeline,
				median(plainRates), median(tensorRates), median(ratios), formatRatios(ratios),
				median(plainCPU), median(tensorCPU), median(cpuRatios), formatRatios(cpuRatios))
		}
	}
	return status
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func formatRatios(v []float64) string {
	s := ""
	for i, r := range v {
		if i > 0 {
			s += " "
		}
		s += strconv.FormatFloat(r, 'f', 2, 64)
	}
	return s
}

// runWorkload drives clients connections to srv for d, each sending batches of pipeline ops of w on a
// key of its own, and returns completed ops per second and the µs of CPU time Redis' main thread
// spent per op. plain says which command prepares a read-only workload's keys.
func runWorkload(srv *redistest.Server, w workload, plain bool, data []byte, clients, pipeline int, d time.Duration) (rate, cpuPerOp float64, err error) {
	conns := make([]*resp.Conn, clients)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	keys := make([]string, clients)
	for i := range conns {
		c, err := srv.Dial()
		if err != nil {
			return 0, 0, err
		}
		c.SetTimeout(60 * time.Second)
		conns[i] = c
		keys[i] = fmt.Sprintf("bench:%s:%d", w.name, i)
		if !w.setsKey {
			if v, err := c.Do(w.prepare(keys[i], data, plain)...); err != nil || v.Text() != "OK" {
				return 0, 0, fmt.Errorf("preparing %s: %v %v", keys[i], v, err)
			}
		}
	}
	var ops atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var stop atomic.Bool
	var wg sync.WaitGroup
	cpuBefore, err := mainThreadCPU(srv.PID())
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := drive(c, w.op(keys[i], data), len(data), pipeline, deadline, &stop, &ops); err != nil {
				errOnce.Do(func() { firstErr = fmt.Errorf("%s: %w", w.name, err) })
				stop.Store(true)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, 0, firstErr
	}
	cpuAfter, err := mainThreadCPU(srv.PID())
	if err != nil {
		return 0, 0, err
	}
	n := float64(ops.Load())
	return n / elapsed.Seconds(), float64((cpuAfter - cpuBefore).Microseconds()) / n, nil
}

// mainThreadCPU is the CPU time so far of the main thread of process pid (its schedstat's first
// field, in ns).
func mainThreadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, pid))
	if err != nil {
		return 0, fmt.Errorf("the main thread's CPU time: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, fmt.Errorf("the main thread's CPU time: empty schedstat")
	}
	ns, err := strconv.ParseInt(fields[0], 10, 64)
	return time.Duration(ns), err
}

// drive sends op pipeline times per batch until the deadline (or stop), checking every reply.
func drive(c *resp.Conn, op []step, size, pipeline int, deadline time.Time, stop *atomic.Bool, ops *atomic.Int64) error {
	for !stop.Load() && time.Now().Before(deadline) {
		for j := 0; j < pipeline; j++ {
			for _, st := range op {
				if err := c.Send(st.args...); err != nil {
					return err
				}
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for j := 0; j < pipeline; j++ {
			for _, st := range op {
				v, err := c.ReceiveDiscard()
				if err != nil {
					return err
				}
				if st.reads && (v.Kind != resp.Bulk || v.Nil || v.Int != int64(size)) {
					return fmt.Errorf("%s reply %v (want a %d-byte bulk string)", st.args[0], v, size)
				}
				if !st.reads && (v.Kind != resp.SimpleString || v.Text() != "OK") {
					return fmt.Errorf("%s reply %v", st.args[0], v)
				}
			}
		}
		ops.Add(int64(pipeline))
	}
	return nil
}
