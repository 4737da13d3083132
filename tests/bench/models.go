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
	"runtime"
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
// seed's Keras FCN (TF), or those whose name contains only.
func benchModels(module string, duration, warmup time.Duration, repeats int, only string) int {
	fixtures := filepath.Join(redistest.RepoRoot(), "testdata", "redisai")
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
		if !strings.Contains(mc.name, only) {
			continue
		}
		if err := benchModel(module, mc, duration, warmup, repeats); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", mc.name, err)
			status = 1
		}
	}
	return status
}

// modelFigures are one repeat's measures of one model: latency with one client (the server, the
// backend in process, and a GET of a short string on the same server, the round trip any command
// pays), runs per second with many clients against as many in-process workers as the server has
// threads, and CPU per run: the server's (all threads), its main thread's and this process's for
// the in-process runs.
type modelFigures struct {
	srvP50, srvP99, procP50, procP99, getP50 time.Duration
	// The backend in process with its thread asleep for one GET round trip before each run, as a
	// server's thread is between one client's requests (see latencyAfterIdle).
	idleP50, idleP99 time.Duration
	// The same server's 1-client latency seen by a C client (redis-benchmark; zero when absent).
	cP50, cP99, cGetP50      time.Duration
	srvRate, procRate        float64
	srvCPU, mainCPU, procCPU time.Duration
}

// benchModel prints, for one model, AI.MODELEXECUTE through a server against the same backend
// code called in this process, as medians of repeats.
func benchModel(module string, mc modelCase, duration, warmup time.Duration, repeats int) error {
	srv, err := redistest.Launch(redistest.Options{ModulePath: module, Config: []string{"maxclients 1000"},
		ModuleArgs: []string{"THREADS_PER_QUEUE", strconv.Itoa(queueThreads)}})
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := storeModel(srv, mc); err != nil {
		return err
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
	clients, err := executeClients(srv, mc, modelClients+1)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range clients {
			c.conn.Close()
		}
	}()

	fmt.Printf("%s (%s): AI.MODELEXECUTE on redis-server (THREADS_PER_QUEUE %d) beside the backend in process (%d workers), %v per cell, medians of %d\n",
		mc.name, mc.backend, queueThreads, queueThreads, duration, repeats)
	var all []modelFigures
	for range repeats {
		f, err := measureModel(srv, clients, inProcess, duration, warmup)
		if err != nil {
			return err
		}
		all = append(all, f)
	}
	med := func(get func(modelFigures) float64) float64 { return medianBy(all, get) }
	durUS := func(get func(modelFigures) time.Duration) float64 {
		return med(func(f modelFigures) float64 { return us(get(f)) })
	}
	srvP50, procP50, getP50 := durUS(func(f modelFigures) time.Duration { return f.srvP50 }),
		durUS(func(f modelFigures) time.Duration { return f.procP50 }), durUS(func(f modelFigures) time.Duration { return f.getP50 })
	srvP99, procP99 := durUS(func(f modelFigures) time.Duration { return f.srvP99 }), durUS(func(f modelFigures) time.Duration { return f.procP99 })
	fmt.Printf("  %-34s %10s %10s %10s %22s\n", "1 client, µs", "server", "in-process", "GET", "server-in-process-GET")
	fmt.Printf("  %-34s %10.1f %10.1f %10.1f %22.1f\n", "p50", srvP50, procP50, getP50, srvP50-procP50-getP50)
	fmt.Printf("  %-34s %10.1f %10.1f %10s %22s\n", "p99", srvP99, procP99, "", fmt.Sprintf("p99/p50 %.2f", srvP99/srvP50))
	idleP50 := durUS(func(f modelFigures) time.Duration { return f.idleP50 })
	fmt.Printf("  %-34s %10.1f %10.1f %10.1f %22.1f\n", "p50, in process after a GET's idle", srvP50, idleP50, getP50, srvP50-idleP50-getP50)
	// The backend's own spread after an idle, beside the server's p99/p50 (issue 11 asks for ≤ 2).
	idleP99 := durUS(func(f modelFigures) time.Duration { return f.idleP99 })
	fmt.Printf("  %-34s %10.1f %10.1f %10s %22s\n", "p99, in process after a GET's idle", srvP99, idleP99, "", fmt.Sprintf("in-process p99/p50 %.2f", idleP99/idleP50))
	if cP50 := durUS(func(f modelFigures) time.Duration { return f.cP50 }); cP50 > 0 {
		cP99, cGet := durUS(func(f modelFigures) time.Duration { return f.cP99 }), durUS(func(f modelFigures) time.Duration { return f.cGetP50 })
		fmt.Printf("  %-34s %10.1f %10.1f %10.1f %22.1f\n", "p50, C client (redis-benchmark)", cP50, procP50, cGet, cP50-procP50-cGet)
		fmt.Printf("  %-34s %10.1f %10.1f %10.1f %22.1f\n", "the same, in process after idle", cP50, idleP50, cGet, cP50-idleP50-cGet)
		fmt.Printf("  %-34s %10.1f %10s %10s %22s\n", "p99, C client (redis-benchmark)", cP99, "", "", fmt.Sprintf("p99/p50 %.2f", cP99/cP50))
	}
	srvRate, procRate := med(func(f modelFigures) float64 { return f.srvRate }), med(func(f modelFigures) float64 { return f.procRate })
	fmt.Printf("  %-34s %10s %10s %10s\n", fmt.Sprintf("%d clients / %d workers", modelClients, queueThreads), "server", "in-process", "ratio")
	fmt.Printf("  %-34s %10.0f %10.0f %10.2f\n", "runs/s", srvRate, procRate, srvRate/procRate)
	srvCPU, procCPU := durUS(func(f modelFigures) time.Duration { return f.srvCPU }), durUS(func(f modelFigures) time.Duration { return f.procCPU })
	fmt.Printf("  %-34s %10.1f %10.1f %10s\n", "CPU per run, all threads, µs", srvCPU, procCPU, fmt.Sprintf("+%.1f", srvCPU-procCPU))
	fmt.Printf("  %-34s %10.1f\n\n", "main-thread CPU per run, µs", durUS(func(f modelFigures) time.Duration { return f.mainCPU }))
	return nil
}

// storeModel stores mc as key m.
func storeModel(srv *redistest.Server, mc modelCase) error {
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
	return nil
}

// executeClient is a connection with its own input tensor, which runs model m on it.
type executeClient struct {
	conn    *resp.Conn
	execute func() error
}

// executeClients opens n connections and sets each one's input tensor.
func executeClients(srv *redistest.Server, mc modelCase, n int) ([]executeClient, error) {
	tensorset := []any{"AI.TENSORSET", "", "FLOAT"}
	for _, d := range mc.shape {
		tensorset = append(tensorset, strconv.FormatInt(d, 10))
	}
	tensorset = append(tensorset, "BLOB", mc.input)
	var out []executeClient
	for i := range n {
		c, err := srv.Dial()
		if err != nil {
			return out, err
		}
		in, outKey := "in:"+strconv.Itoa(i), "out:"+strconv.Itoa(i)
		tensorset[1] = in
		if v, err := c.Do(tensorset...); err != nil || v.Text() != "OK" {
			c.Close()
			return out, fmt.Errorf("TENSORSET: %v %v", v, err)
		}
		out = append(out, executeClient{conn: c, execute: func() error {
			v, err := c.Do("AI.MODELEXECUTE", "m", "INPUTS", "1", in, "OUTPUTS", "1", outKey)
			if err == nil && (v.Kind != resp.SimpleString || v.Text() != "OK") {
				err = fmt.Errorf("MODELEXECUTE: %v", v)
			}
			return err
		}})
	}
	return out, nil
}

// measureModel takes one repeat of every figure: clients[0] measures latency, the others load.
func measureModel(srv *redistest.Server, clients []executeClient, inProcess func() error, duration, warmup time.Duration) (modelFigures, error) {
	var f modelFigures
	one := clients[0]
	if _, err := one.conn.Do("SET", "rtt", "x"); err != nil {
		return f, err
	}
	get := func() error { _, err := one.conn.Do("GET", "rtt"); return err }
	for _, l := range []struct {
		call     func() error
		p50, p99 *time.Duration
	}{{one.execute, &f.srvP50, &f.srvP99}, {inProcess, &f.procP50, &f.procP99}, {get, &f.getP50, nil}} {
		latency(l.call, warmup)
		ds, err := latency(l.call, duration)
		if err != nil {
			return f, err
		}
		*l.p50 = percentile(ds, 0.5)
		if l.p99 != nil {
			*l.p99 = percentile(ds, 0.99)
		}
	}

	idle, err := latencyAfterIdle(inProcess, f.getP50, duration)
	if err != nil {
		return f, err
	}
	f.idleP50, f.idleP99 = percentile(idle, 0.5), percentile(idle, 0.99)

	// As many requests as the Go client made in the same time.
	n := int(duration / max(f.srvP50, time.Microsecond))
	var err0 error
	if f.cP50, f.cP99, _, err0 = cClientLatency(srv.Port(), n, "AI.MODELEXECUTE", "m", "INPUTS", "1", "in:0", "OUTPUTS", "1", "out:0"); err0 != nil {
		return f, err0
	}
	if f.cGetP50, _, _, err0 = cClientLatency(srv.Port(), n, "GET", "rtt"); err0 != nil {
		return f, err0
	}

	calls := make([]func() error, 0, len(clients)-1)
	for _, c := range clients[1:] {
		calls = append(calls, c.execute)
	}
	if f.srvRate, f.srvCPU, f.mainCPU, err = serverLoad(srv.PID(), calls, duration); err != nil {
		return f, err
	}

	workers := make([]func() error, queueThreads)
	for i := range workers {
		workers[i] = inProcess
	}
	self0 := selfCPU()
	start := time.Now()
	rate, err := throughput(workers, duration)
	if err != nil {
		return f, err
	}
	f.procRate = rate
	f.procCPU = time.Duration(float64(selfCPU()-self0) / (rate * time.Since(start).Seconds()))
	return f, nil
}

// medianBy is the median of get over the repeats.
func medianBy[T any](all []T, get func(T) float64) float64 {
	v := make([]float64, len(all))
	for i, x := range all {
		v[i] = get(x)
	}
	return median(v)
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
func latency(f func() error, d time.Duration) ([]time.Duration, error) { return timedCalls(f, 0, d) }

// timedCalls calls f repeatedly for d, sleeping for gap before each call (0: not at all), and
// returns each call's duration, the sleep excluded.
func timedCalls(f func() error, gap, d time.Duration) ([]time.Duration, error) {
	var out []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		if gap > 0 {
			time.Sleep(gap)
		}
		t := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// latencyAfterIdle calls f for d on a thread of its own that sleeps for gap before each call, and
// returns each call's duration (the sleep excluded). A server's thread sleeps between one client's
// requests for about a round trip, and on this VM a run that follows a sleep takes much longer
// than one in a busy loop (mnist: about 30 µs busy, 45–70 µs after 60–200 µs asleep): the busy
// in-process p50 is not what any server can reach with one client.
func latencyAfterIdle(f func() error, gap, d time.Duration) (ds []time.Duration, err error) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ds, err = timedCalls(f, gap, d)
		close(done)
	}()
	<-done
	return ds, err
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
