package main

// The model suite: AI.MODELEXECUTE through the server, beside the same backend called in this
// process on the same model with the same number of worker threads.

import (
	"bytes"
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
	"gorai/backends/tf"
	"gorai/backends/torch"
	"gorai/tensor"
	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// queueThreads is THREADS_PER_QUEUE for the server and the worker count in process: one per core.
const queueThreads = 2

const modelClients = 50

// modelCase is one model to measure: its backend and blob, and one input tensor.
type modelCase struct {
	name, backend, library string // library: under build/backends
	blob                   []byte
	shape                  []int64
	input                  []byte   // float32, row-major
	inputs, outputs        []string // node names, for TF
}

// benchModels measures mnist.onnx (ONNX), the seed's CNN (TORCH) at batch 1 and 20 and the
// seed's Keras FCN (TF).
func benchModels(module string, duration, warmup time.Duration) int {
	fixtures := filepath.Join(redistest.RepoRoot(), "..", "shared", "fixtures", "redisai")
	mnist, err := os.ReadFile(filepath.Join(fixtures, "mnist.onnx"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "models suite needs the fixtures:", err)
		return 1
	}
	one, err := mnistInput(filepath.Join(fixtures, "one.png"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cnn, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "tests", "python", "models", "cnn.pt"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "models suite needs tests/python/models/cnn.pt:", err)
		return 1
	}
	fcn, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "tests", "python", "models", "keras_fcn.pb"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "models suite needs tests/python/models/keras_fcn.pb:", err)
		return 1
	}
	cases := []modelCase{
		{"mnist.onnx", "ONNX", onnx.DefaultLibrary, mnist, []int64{1, 1, 28, 28}, one, nil, nil},
		{"CNN batch 1", "TORCH", torch.DefaultLibrary, cnn, []int64{1, 1, 28, 28}, one, nil, nil},
		{"CNN batch 20", "TORCH", torch.DefaultLibrary, cnn, []int64{20, 1, 28, 28}, bytes.Repeat(one, 20), nil, nil},
		{"Keras FCN", "TF", tf.DefaultLibrary, fcn, []int64{1, 28, 28}, one, []string{"x"}, []string{"Identity"}},
	}
	status := 0
	for _, mc := range cases {
		if err := benchModel(module, mc, duration, warmup); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", mc.name, err)
			status = 1
		}
	}
	return status
}

// benchModel prints, for one model, AI.MODELEXECUTE through a server against the same backend
// code called in this process: latency with one client, throughput with many.
func benchModel(module string, mc modelCase, duration, warmup time.Duration) error {
	srv, err := redistest.Launch(redistest.Options{ModulePath: module, Config: []string{"maxclients 1000"},
		ModuleArgs: []string{"THREADS_PER_QUEUE", strconv.Itoa(queueThreads)}})
	if err != nil {
		return err
	}
	defer srv.Stop()
	c, err := srv.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	store := []any{"AI.MODELSTORE", "m", mc.backend, "CPU"}
	if mc.inputs != nil {
		store = append(store, "INPUTS", strconv.Itoa(len(mc.inputs)))
		for _, n := range mc.inputs {
			store = append(store, n)
		}
		store = append(store, "OUTPUTS", strconv.Itoa(len(mc.outputs)))
		for _, n := range mc.outputs {
			store = append(store, n)
		}
	}
	if v, err := c.Do(append(store, "BLOB", mc.blob)...); err != nil || v.Text() != "OK" {
		return fmt.Errorf("MODELSTORE: %v %v", v, err)
	}

	b, err := backends.Load(mc.backend, filepath.Join(redistest.RepoRoot(), "build", "backends", mc.library))
	if err != nil {
		return err
	}
	model, err := b.NewModel(mc.blob, backends.ModelOptions{Device: "CPU", Inputs: mc.inputs, Outputs: mc.outputs})
	if err != nil {
		return err
	}
	defer model.Close()
	input, err := tensor.FromBlob(tensor.Float, mc.shape, mc.input)
	if err != nil {
		return err
	}
	defer input.Release()
	inProcess := func() error {
		outs, err := model.Run([]tensor.Tensor{input})
		for _, o := range outs {
			o.Release()
		}
		return err
	}
	tensorset := []any{"AI.TENSORSET", "", "FLOAT"}
	for _, d := range mc.shape {
		tensorset = append(tensorset, strconv.FormatInt(d, 10))
	}
	tensorset = append(tensorset, "BLOB", mc.input)
	setInput := func(c *resp.Conn, key string) error {
		tensorset[1] = key
		v, err := c.Do(tensorset...)
		if err == nil && v.Text() != "OK" {
			err = fmt.Errorf("TENSORSET: %v", v)
		}
		return err
	}
	server := func(c *resp.Conn, in, out string) func() error {
		return func() error {
			v, err := c.Do("AI.MODELEXECUTE", "m", "INPUTS", "1", in, "OUTPUTS", "1", out)
			if err == nil && (v.Kind != resp.SimpleString || v.Text() != "OK") {
				err = fmt.Errorf("MODELEXECUTE: %v", v)
			}
			return err
		}
	}

	fmt.Printf("%s (%s): AI.MODELEXECUTE on redis-server (THREADS_PER_QUEUE %d) beside the backend in process (%d workers), %v per cell\n",
		mc.name, mc.backend, queueThreads, queueThreads, duration)
	if err := setInput(c, "in:0"); err != nil {
		return err
	}
	latency(server(c, "in:0", "out:0"), warmup)
	srvLat, err := latency(server(c, "in:0", "out:0"), duration)
	if err != nil {
		return err
	}
	latency(inProcess, warmup)
	procLat, err := latency(inProcess, duration)
	if err != nil {
		return err
	}
	fmt.Printf("  %-32s %12s %12s %12s\n", "1 client, latency", "server", "in-process", "overhead")
	for _, q := range []float64{0.5, 0.99} {
		s, p := percentile(srvLat, q), percentile(procLat, q)
		fmt.Printf("  %-32s %10.1fµs %10.1fµs %10.1fµs\n", fmt.Sprintf("p%.0f", q*100), us(s), us(p), us(s-p))
	}

	calls := make([]func() error, modelClients)
	for i := range calls {
		conn, err := srv.Dial()
		if err != nil {
			return err
		}
		defer conn.Close()
		in := "in:" + strconv.Itoa(i)
		if err := setInput(conn, in); err != nil {
			return err
		}
		calls[i] = server(conn, in, "out:"+strconv.Itoa(i))
	}
	if _, err := c.Do("CONFIG", "RESETSTAT"); err != nil {
		return err
	}
	srvRate, err := throughput(calls, duration)
	if err != nil {
		return err
	}
	stats, err := srv.Info("commandstats")
	if err != nil {
		return err
	}
	workers := make([]func() error, queueThreads)
	for i := range workers {
		workers[i] = inProcess
	}
	procRate, err := throughput(workers, duration)
	if err != nil {
		return err
	}
	fmt.Printf("  %-32s %12s %12s %12s\n", "throughput", "server", "in-process", "ratio")
	fmt.Printf("  %-32s %10.0f/s %10.0f/s %12.2f\n", fmt.Sprintf("%d clients / %d workers", modelClients, queueThreads), srvRate, procRate, srvRate/procRate)
	fmt.Printf("  main-thread time per AI.MODELEXECUTE (INFO commandstats, usec_per_call): %s µs\n\n",
		field(stats["cmdstat_ai.modelexecute"], "usec_per_call"))
	return nil
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
	t, err := tensor.FromValues(tensor.Float, []int64{784}, toBytes(values))
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
