// Command bench compares AI.TENSORSET + AI.TENSORGET with SET + GET of the
// same bytes, over real loopback TCP connections, against one redis-server
// with the gorai module loaded.
//
// For each payload (16 float32 elements, and 1 MiB of float32) it runs every
// combination of 1 or 50 clients and no pipelining or a pipeline of 32, for a
// fixed duration per cell, and prints ops/s, where one op is one set plus one
// get of the same key:
//
//	SET key <bytes>                          GET key
//	AI.TENSORSET key FLOAT <n> BLOB <bytes>  AI.TENSORGET key BLOB
//
// Every reply is checked (+OK, and a bulk string of the payload's length).
// All traffic goes to 127.0.0.1; every cell stops by itself after its duration.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

type payload struct {
	name  string
	elems int
	data  []byte
}

type mode struct {
	name string
	set  func(key string, p *payload) []any
	get  func(key string) []any
}

var (
	setGet = mode{
		name: "SET+GET",
		set:  func(key string, p *payload) []any { return []any{"SET", key, p.data} },
		get:  func(key string) []any { return []any{"GET", key} },
	}
	tensorMode = mode{
		name: "TENSOR",
		set: func(key string, p *payload) []any {
			return []any{"AI.TENSORSET", key, "FLOAT", strconv.Itoa(p.elems), "BLOB", p.data}
		},
		get: func(key string) []any { return []any{"AI.TENSORGET", key, "BLOB"} },
	}
)

// run drives `clients` connections for d, each sending batches of `pipeline`
// set/get pairs, and returns completed ops per second.
func run(addr string, m mode, p *payload, clients, pipeline int, d time.Duration) (float64, error) {
	conns := make([]*resp.Conn, clients)
	for i := range conns {
		c, err := resp.Dial(addr)
		if err != nil {
			return 0, err
		}
		c.SetTimeout(60 * time.Second)
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var ops atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c *resp.Conn) {
			defer wg.Done()
			key := fmt.Sprintf("bench:%s:%d", strings.ToLower(m.name), i)
			setCmd := m.set(key, p)
			getCmd := m.get(key)
			fail := func(err error) {
				errOnce.Do(func() { firstErr = err })
				stop.Store(true)
			}
			for !stop.Load() && time.Now().Before(deadline) {
				for j := 0; j < pipeline; j++ {
					if err := c.Send(setCmd...); err != nil {
						fail(err)
						return
					}
					if err := c.Send(getCmd...); err != nil {
						fail(err)
						return
					}
				}
				if err := c.Flush(); err != nil {
					fail(err)
					return
				}
				for j := 0; j < pipeline; j++ {
					v, err := c.ReceiveDiscard()
					if err != nil {
						fail(err)
						return
					}
					if v.Kind != resp.SimpleString || v.Text() != "OK" {
						fail(fmt.Errorf("%s: set reply %v", m.name, v))
						return
					}
					v, err = c.ReceiveDiscard()
					if err != nil {
						fail(err)
						return
					}
					if v.Kind != resp.Bulk || v.Nil || v.Int != int64(len(p.data)) {
						fail(fmt.Errorf("%s: get reply %v (want a %d-byte bulk string)", m.name, v, len(p.data)))
						return
					}
				}
				ops.Add(int64(pipeline))
			}
		}(i, c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(ops.Load()) / elapsed.Seconds(), nil
}

func main() {
	duration := flag.Duration("duration", 2*time.Second, "measured time per cell and mode")
	warmup := flag.Duration("warmup", 200*time.Millisecond, "unmeasured warm-up per cell and mode")
	module := flag.String("module", redistest.ModulePath(), "module to load (default $GORAI_MODULE or <repo>/build/gorai.so)")
	clientList := flag.String("clients", "1,50", "comma-separated client counts (tensor suite)")
	pipeList := flag.String("pipeline", "1,32", "comma-separated pipeline depths (tensor suite)")
	repeats := flag.Int("repeats", 3, "repeats per cell, of which the median is printed (models suite)")
	only := flag.String("model", "", "run only the models whose name contains this (models suite): mnist, CNN, Keras")
	suites := flag.String("suite", "tensors,memory,models,start", "comma-separated suites to run: tensors, memory, models, start")
	startRepeats := flag.Int("start-repeats", 7, "starts of each server (start suite)")
	startSettle := flag.Duration("start-settle", 2*time.Second, "wait after the first PONG before the second RSS reading (start suite)")
	startCompare := flag.String("start-compare", "", "comma-separated other module files to start interleaved with -module, e.g. an older build (start suite)")
	flag.Parse()

	status := 0
	for _, s := range strings.Split(*suites, ",") {
		switch strings.TrimSpace(s) {
		case "tensors":
			status |= benchTensors(*module, *duration, *warmup, parseList(*clientList), parseList(*pipeList))
		case "memory":
			status |= benchMemory(*module)
		case "models":
			status |= benchModels(*module, *duration, *warmup, *repeats, *only)
		case "start":
			modules := []string{*module}
			if *startCompare != "" {
				modules = append(modules, strings.Split(*startCompare, ",")...)
			}
			status |= benchStart(modules, *startRepeats, *startSettle)
		default:
			fmt.Fprintf(os.Stderr, "unknown suite %q\n", s)
			status = 2
		}
		fmt.Println()
	}
	os.Exit(status)
}

func parseList(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad list %q\n", s)
			os.Exit(2)
		}
		out = append(out, n)
	}
	return out
}

// benchTensors prints the TENSORSET+TENSORGET against SET+GET table; 1 if a cell failed.
func benchTensors(module string, duration, warmup time.Duration, clientCounts, pipelines []int) int {
	srv, err := redistest.Launch(redistest.Options{ModulePath: module, Config: []string{"maxclients 1000"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	fmt.Printf("redis-server %s on %s, module %s, %v per cell (after %v warm-up)\n", redistest.ServerBinary(), srv.Addr(), module, duration, warmup)
	fmt.Println("op = one set + one get of the same key; ratio = TENSOR / SET+GET")
	fmt.Println()
	rng := rand.New(rand.NewSource(1))
	mk := func(name string, elems int) *payload {
		b := make([]byte, 4*elems)
		rng.Read(b)
		return &payload{name: name, elems: elems, data: b}
	}
	payloads := []*payload{mk("16 x float32", 16), mk("1 MiB float32", 1<<18)}

	fmt.Printf("%-15s %8s %9s %15s %15s %7s\n", "case", "clients", "pipeline", "SET+GET ops/s", "TENSOR ops/s", "ratio")
	status := 0
	for _, p := range payloads {
		for _, nc := range clientCounts {
			for _, pl := range pipelines {
				var rates [2]float64
				failed := false
				for i, m := range []mode{setGet, tensorMode} {
					if warmup > 0 {
						if _, err := run(srv.Addr(), m, p, nc, pl, warmup); err != nil {
							fmt.Fprintf(os.Stderr, "%s %s clients=%d pipeline=%d: %v\n", p.name, m.name, nc, pl, err)
							failed = true
							break
						}
					}
					r, err := run(srv.Addr(), m, p, nc, pl, duration)
					if err != nil {
						fmt.Fprintf(os.Stderr, "%s %s clients=%d pipeline=%d: %v\n", p.name, m.name, nc, pl, err)
						failed = true
						break
					}
					rates[i] = r
				}
				if failed {
					status = 1
					if !srv.Running() {
						fmt.Fprintf(os.Stderr, "redis-server died; log tail:\n%s\n", srv.LogTail(8192))
						return 1
					}
					continue
				}
				fmt.Printf("%-15s %8d %9d %15.0f %15.0f %7.2f\n", p.name, nc, pl, rates[0], rates[1], rates[1]/rates[0])
			}
		}
	}
	return status
}
