package main

// The batching suite: one model stored without batching and with RedisAI's autobatching options,
// on one server, measured back to back so that the ratios between them hold on a noisy machine.

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"gorai/backends"
	"gorai/backends/onnx"
	"gorai/backends/torch"
	"gorai/tensor"
	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// batchingVariant is one way of storing the model: its options after the device.
type batchingVariant struct {
	name string
	opts []string
}

// batchingSize is the BATCHSIZE of the batched variants.
const batchingSize = 16

var batchingVariants = []batchingVariant{
	{"unbatched", nil},
	{"BATCHSIZE 16", []string{"BATCHSIZE", strconv.Itoa(batchingSize)}},
	{"BATCHSIZE 16 MIN 8 / 2 ms", []string{"BATCHSIZE", strconv.Itoa(batchingSize), "MINBATCHSIZE", "8", "MINBATCHTIMEOUT", "2"}},
}

// batchingFigures are one repeat's measures of one variant: one client's latency, and with
// modelClients clients the runs per second, the CPU per run of the server (all threads) and of
// its main thread, and the mean batch (runs per batch, from INFO).
type batchingFigures struct {
	p50, p99        time.Duration
	rate            float64
	srvCPU, mainCPU time.Duration
	batch           float64
}

// benchBatching measures mnist with a free batch dim (ONNX) and the seed's CNN (TORCH), each
// stored as every variant, one image per run; medians of repeats.
func benchBatching(module string, duration, warmup time.Duration, repeats int) int {
	root := redistest.RepoRoot()
	one, err := mnistInput(filepath.Join(root, "testdata", "redisai", "one.png"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	status := 0
	for _, m := range []struct{ name, backend, file string }{
		{"mnist_batch.onnx", "ONNX", filepath.Join(root, "testdata", "mnist_batch.onnx")},
		{"CNN", "TORCH", filepath.Join(root, "tests", "python", "models", "cnn.pt")},
	} {
		blob, err := os.ReadFile(m.file)
		if err == nil {
			err = benchBatchingModel(module, m.name, m.backend, blob, one, duration, warmup, repeats)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", m.name, err)
			status = 1
		}
	}
	return status
}

func benchBatchingModel(module, name, backend string, blob, input []byte, duration, warmup time.Duration, repeats int) error {
	srv, err := redistest.Launch(redistest.Options{ModulePath: module, Config: []string{"maxclients 1000"},
		ModuleArgs: []string{"THREADS_PER_QUEUE", strconv.Itoa(queueThreads)}})
	if err != nil {
		return err
	}
	defer srv.Stop()
	conns := make([]*resp.Conn, modelClients)
	for i := range conns {
		if conns[i], err = srv.Dial(); err != nil {
			return err
		}
		defer conns[i].Close()
		v, err := conns[i].Do("AI.TENSORSET", "in:"+strconv.Itoa(i), "FLOAT", "1", "1", "28", "28", "BLOB", input)
		if err != nil || v.Text() != "OK" {
			return fmt.Errorf("TENSORSET: %v %v", v, err)
		}
	}
	for _, v := range batchingVariants {
		store := []any{"AI.MODELSTORE", v.name, backend, "CPU"}
		for _, o := range v.opts {
			store = append(store, o)
		}
		if r, err := conns[0].Do(append(store, "BLOB", blob)...); err != nil || r.Text() != "OK" {
			return fmt.Errorf("MODELSTORE %s: %v %v", v.name, r, err)
		}
	}
	execute := func(c *resp.Conn, model string, i int) func() error {
		in, out := "in:"+strconv.Itoa(i), "out:"+strconv.Itoa(i)
		return func() error {
			v, err := c.Do("AI.MODELEXECUTE", model, "INPUTS", "1", in, "OUTPUTS", "1", out)
			if err == nil && (v.Kind != resp.SimpleString || v.Text() != "OK") {
				err = fmt.Errorf("MODELEXECUTE %s: %v", model, v)
			}
			return err
		}
	}

	all := make([][]batchingFigures, len(batchingVariants))
	for range repeats {
		for k, v := range batchingVariants {
			calls := make([]func() error, len(conns))
			for i, c := range conns {
				calls[i] = execute(c, v.name, i)
			}
			f, err := measureBatching(srv, conns[0], calls, duration, warmup)
			if err != nil {
				return err
			}
			all[k] = append(all[k], f)
		}
	}

	fmt.Printf("%s (%s): one [1,1,28,28] image per AI.MODELEXECUTE, THREADS_PER_QUEUE %d, medians of %d interleaved repeats of %v\n",
		name, backend, queueThreads, repeats, duration)
	fmt.Printf("  %-26s %11s %6s %6s %9s %6s %9s %12s %10s %6s\n", "stored as", fmt.Sprintf("%d clients", modelClients), "ratio",
		"batch", "CPU/run", "ratio", "main/run", "1 client p50", "p99", "ratio")
	durations := func(k int, get func(batchingFigures) time.Duration) time.Duration {
		return time.Duration(medianBy(all[k], func(f batchingFigures) float64 { return float64(get(f)) }))
	}
	type row struct {
		rate, batch               float64
		srvCPU, mainCPU, p50, p99 time.Duration
	}
	rows := make([]row, len(batchingVariants))
	for k := range rows {
		rows[k] = row{medianBy(all[k], func(f batchingFigures) float64 { return f.rate }),
			medianBy(all[k], func(f batchingFigures) float64 { return f.batch }),
			durations(k, func(f batchingFigures) time.Duration { return f.srvCPU }),
			durations(k, func(f batchingFigures) time.Duration { return f.mainCPU }),
			durations(k, func(f batchingFigures) time.Duration { return f.p50 }),
			durations(k, func(f batchingFigures) time.Duration { return f.p99 })}
	}
	base := rows[0]
	for k, v := range batchingVariants {
		r := rows[k]
		fmt.Printf("  %-26s %9.0f/s %6.2f %6.1f %7.1fµs %6.2f %7.1fµs %10.1fµs %8.1fµs %6.2f\n", v.name, r.rate, r.rate/base.rate,
			r.batch, us(r.srvCPU), float64(r.srvCPU)/float64(base.srvCPU), us(r.mainCPU), us(r.p50), us(r.p99), float64(r.p99)/float64(base.p99))
	}
	if err := printBackendRows(backend, blob, input, repeats, base.srvCPU, rows[1].mainCPU); err != nil {
		return err
	}
	fmt.Println()
	return nil
}

// measureBatching takes one repeat of one variant: calls[0] alone for latency, then all of them,
// reading the CPU queue's batch counts through c (idle then) around the second.
func measureBatching(srv *redistest.Server, c *resp.Conn, calls []func() error, duration, warmup time.Duration) (batchingFigures, error) {
	var f batchingFigures
	latency(calls[0], warmup)
	lat, err := latency(calls[0], duration)
	if err != nil {
		return f, err
	}
	f.p50, f.p99 = percentile(lat, 0.5), percentile(lat, 0.99)
	batches0, runs0, err := batchCounts(c)
	if err != nil {
		return f, err
	}
	f.rate, f.srvCPU, f.mainCPU, err = serverLoad(srv.PID(), calls, duration)
	if err != nil {
		return f, err
	}
	batches1, runs1, err := batchCounts(c)
	if batches1 < 0 {
		f.batch = math.NaN() // a module without the counts: an older build being compared
	} else if batches1 > batches0 {
		f.batch = float64(runs1-runs0) / float64(batches1-batches0)
	} else {
		f.batch = 1 // unbatched: every run alone
	}
	return f, err
}

// batchCounts reads INFO's batches and runs in them of the CPU queue; -1 when INFO has none.
func batchCounts(c *resp.Conn) (batches, runs int64, err error) {
	v, err := c.Do("INFO", "modules")
	if err != nil {
		return 0, 0, err
	}
	m := redistest.ParseInfo(v.Text())
	if _, ok := m["ai_queue_CPU_batches"]; !ok {
		return -1, -1, nil
	}
	batches, err1 := strconv.ParseInt(m["ai_queue_CPU_batches"], 10, 64)
	runs, err2 := strconv.ParseInt(m["ai_queue_CPU_batched_runs"], 10, 64)
	return batches, runs, errors.Join(err1, err2)
}

// printBackendRows prints what the backend itself gains from batching, which bounds what
// batching can gain through the server: the model called in this process on one thread, per
// image, at batch 1 and at BATCHSIZE, both shapes warmed first (TorchScript specializes its graph
// on the first runs of a shape) and measured alternately, medians of repeats. It counts the
// thread's CPU time, not the clock's, so that other processes on a shared machine do not count.
// From them and the server's figures it prints the ceiling: while the CPU is the limit, the
// throughput ratio cannot exceed the unbatched server CPU per run over what a batched run cannot
// avoid, the model's share of a full batch and the main thread's work per run.
func printBackendRows(backend string, blob, image []byte, repeats int, unbatched, batched time.Duration) error {
	lib := map[string]string{"ONNX": onnx.DefaultLibrary, "TORCH": torch.DefaultLibrary}[backend]
	b, err := backends.Load(backend, filepath.Join(redistest.RepoRoot(), "build", "backends", lib))
	if err != nil {
		return err
	}
	model, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"})
	if err != nil {
		return err
	}
	defer model.Close()
	sizes := []int64{1, batchingSize}
	runs := make(map[int64]func() error, len(sizes))
	for _, rows := range sizes {
		in, err := tensor.FromBlob(tensor.Float, []int64{rows, 1, 28, 28}, bytes.Repeat(image, int(rows)))
		if err != nil {
			return err
		}
		defer in.Release()
		runs[rows] = func() error {
			outs, err := model.Run([]tensor.Tensor{in})
			for _, o := range outs {
				o.Release()
			}
			return err
		}
		if _, err := latency(runs[rows], 300*time.Millisecond); err != nil {
			return err
		}
	}
	perRow := map[int64][]time.Duration{}
	for range repeats {
		for _, rows := range sizes {
			cpu, n, err := threadCPUOf(runs[rows], time.Second)
			if err != nil {
				return err
			}
			perRow[rows] = append(perRow[rows], cpu/time.Duration(int64(n)*rows))
		}
	}
	one, full := medianDuration(perRow[1]), medianDuration(perRow[batchingSize])
	fmt.Printf("  backend in process, per image: batch 1 %.1fµs, batch %d %.1fµs: batching saves the model at most %.2fx\n",
		us(one), batchingSize, us(full), float64(one)/float64(full))
	fmt.Printf("  ceiling: unbatched server CPU per run %.1fµs / (model per image at %d + batched main thread per run = %.1fµs) = %.2fx\n",
		us(unbatched), batchingSize, us(full+batched), float64(unbatched)/float64(full+batched))
	return nil
}

// threadCPUOf calls f for d on this goroutine's thread, locked to it, and returns that thread's CPU
// time and the number of calls.
func threadCPUOf(f func() error, d time.Duration) (time.Duration, int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, tid := os.Getpid(), syscall.Gettid()
	start, err1 := threadCPU(pid, tid)
	lat, err := latency(f, d)
	end, err2 := threadCPU(pid, tid)
	return end - start, len(lat), errors.Join(err, err1, err2)
}

func medianDuration(ds []time.Duration) time.Duration {
	return time.Duration(medianBy(ds, func(d time.Duration) float64 { return float64(d) }))
}
