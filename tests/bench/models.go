package main

// The model suite: AI.MODELEXECUTE of mnist.onnx through the server, beside ONNX Runtime called
// in this process on the same model with the same number of worker threads.

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorai/backends"
	"gorai/backends/onnx"
	"gorai/dlpack"
	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// queueThreads is THREADS_PER_QUEUE for the server and the worker count in process: one per core.
const queueThreads = 2

const modelClients = 50

func benchModels(module string, duration, warmup time.Duration) int {
	fixtures := filepath.Join(redistest.RepoRoot(), "..", "shared", "fixtures", "redisai")
	blob, err := os.ReadFile(filepath.Join(fixtures, "mnist.onnx"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "models suite needs the fixtures:", err)
		return 1
	}
	input, err := mnistInput(filepath.Join(fixtures, "one.png"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	srv, err := redistest.Launch(redistest.Options{ModulePath: module, Config: []string{"maxclients 1000"},
		ModuleArgs: []string{"THREADS_PER_QUEUE", strconv.Itoa(queueThreads)}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	c, err := srv.Dial()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	if v, err := c.Do("AI.MODELSTORE", "mnist", "ONNX", "CPU", "BLOB", blob); err != nil || v.Text() != "OK" {
		fmt.Fprintln(os.Stderr, "MODELSTORE:", v, err)
		return 1
	}

	lib := filepath.Join(redistest.RepoRoot(), "build", "backends", onnx.DefaultLibrary)
	b, err := backends.Open("ONNX", lib)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	model, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer model.Close()
	tensor, err := dlpack.FromBlob(dlpack.Float, []int64{1, 1, 28, 28}, input)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer tensor.Release()
	inProcess := func() error {
		outs, err := model.Run([]dlpack.Tensor{tensor})
		for _, o := range outs {
			o.Release()
		}
		return err
	}

	fmt.Printf("mnist.onnx: AI.MODELEXECUTE on redis-server %s (THREADS_PER_QUEUE %d) beside ONNX Runtime in process (%d workers), %v per cell\n",
		srv.Addr(), queueThreads, queueThreads, duration)
	fmt.Println()

	// Latency, one client.
	server := func(c *resp.Conn, in, out string) func() error {
		return func() error {
			v, err := c.Do("AI.MODELEXECUTE", "mnist", "INPUTS", "1", in, "OUTPUTS", "1", out)
			if err == nil && (v.Kind != resp.SimpleString || v.Text() != "OK") {
				err = fmt.Errorf("MODELEXECUTE: %v", v)
			}
			return err
		}
	}
	if v, err := c.Do("AI.TENSORSET", "in:0", "FLOAT", "1", "1", "28", "28", "BLOB", input); err != nil || v.Text() != "OK" {
		fmt.Fprintln(os.Stderr, "TENSORSET:", v, err)
		return 1
	}
	latency(server(c, "in:0", "out:0"), warmup)
	srvLat, err := latency(server(c, "in:0", "out:0"), duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	latency(inProcess, warmup)
	procLat, err := latency(inProcess, duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%-34s %12s %12s %12s\n", "1 client, latency", "server", "in-process", "overhead")
	for _, q := range []float64{0.5, 0.99} {
		s, p := percentile(srvLat, q), percentile(procLat, q)
		fmt.Printf("%-34s %10.1fµs %10.1fµs %10.1fµs\n", fmt.Sprintf("p%.0f", q*100), us(s), us(p), us(s-p))
	}
	fmt.Println()

	// Throughput, many clients against the server; the same number of workers in process.
	conns := make([]*resp.Conn, modelClients)
	calls := make([]func() error, modelClients)
	for i := range conns {
		if conns[i], err = srv.Dial(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer conns[i].Close()
		in := "in:" + strconv.Itoa(i)
		if _, err := conns[i].Do("AI.TENSORSET", in, "FLOAT", "1", "1", "28", "28", "BLOB", input); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		calls[i] = server(conns[i], in, "out:"+strconv.Itoa(i))
	}
	if _, err := c.Do("CONFIG", "RESETSTAT"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srvRate, err := throughput(calls, duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stats, err := srv.Info("commandstats")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	workers := make([]func() error, queueThreads)
	for i := range workers {
		workers[i] = inProcess
	}
	procRate, err := throughput(workers, duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%-34s %12s %12s %12s\n", "throughput", "server", "in-process", "ratio")
	fmt.Printf("%-34s %10.0f/s %10.0f/s %12.2f\n", fmt.Sprintf("%d clients / %d workers", modelClients, queueThreads), srvRate, procRate, srvRate/procRate)
	fmt.Println()
	fmt.Printf("main-thread time per AI.MODELEXECUTE (INFO commandstats, usec_per_call): %s µs\n",
		field(stats["cmdstat_ai.modelexecute"], "usec_per_call"))
	return 0
}

// mnistInput is one.png as float32 pixels, row-major [1,1,28,28].
func mnistInput(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	gray, ok := img.(*image.Gray)
	if !ok || len(gray.Pix) != 28*28 {
		return nil, fmt.Errorf("%s: want a 28x28 8-bit grey image", path)
	}
	values := make([]string, 0, 28*28)
	for _, p := range gray.Pix {
		values = append(values, strconv.Itoa(int(p)))
	}
	t, err := dlpack.FromValues(dlpack.Float, []int64{784}, toBytes(values))
	if err != nil {
		return nil, err
	}
	defer t.Release()
	return append([]byte(nil), t.Data()...), nil
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// latency calls f repeatedly for d and returns each call's duration.
func latency(f func() error, d time.Duration) ([]time.Duration, error) {
	var out []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		t := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// throughput calls each f in its own goroutine for d and returns the calls completed per second.
func throughput(fs []func() error, d time.Duration) (float64, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if err := f(); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), firstErr
}

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// field reads one "k=v" field of an INFO commandstats value.
func field(stat, name string) string {
	for _, kv := range strings.Split(stat, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return "?"
}
