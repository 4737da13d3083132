package main

// The batching suite: one model stored without batching and with RedisAI's autobatching options,
// on one server, measured back to back so that the ratios between them hold on a noisy machine.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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

// batchingRepeats is how many times each variant is measured; the figures printed are medians.
const batchingRepeats = 3

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

// batchingFigures are one variant's medians.
type batchingFigures struct {
	rate     float64       // runs/s with modelClients clients
	cpu      time.Duration // the server's CPU time (all threads) per run, with modelClients clients
	p50, p99 time.Duration // one client
}

// benchBatching measures mnist with a free batch dim (ONNX) and the seed's CNN (TORCH), each
// stored as every variant, one row of one image per run.
func benchBatching(module string, duration, warmup time.Duration) int {
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
			err = benchBatchingModel(module, m.name, m.backend, blob, one, duration, warmup)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", m.name, err)
			status = 1
		}
	}
	return status
}

func benchBatchingModel(module, name, backend string, blob, input []byte, duration, warmup time.Duration) error {
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

	rates := make([][]float64, len(batchingVariants))
	p50s := make([][]time.Duration, len(batchingVariants))
	p99s := make([][]time.Duration, len(batchingVariants))
	cpus := make([][]time.Duration, len(batchingVariants))
	for range batchingRepeats {
		for k, v := range batchingVariants {
			one := execute(conns[0], v.name, 0)
			latency(one, warmup)
			lat, err := latency(one, duration)
			if err != nil {
				return err
			}
			p50s[k] = append(p50s[k], percentile(lat, 0.5))
			p99s[k] = append(p99s[k], percentile(lat, 0.99))
			calls := make([]func() error, len(conns))
			for i, c := range conns {
				calls[i] = execute(c, v.name, i)
			}
			cpu0, runs0, err := serverUsage(srv)
			if err != nil {
				return err
			}
			rate, err := throughput(calls, duration)
			if err != nil {
				return err
			}
			cpu1, runs1, err := serverUsage(srv)
			if err != nil {
				return err
			}
			rates[k] = append(rates[k], rate)
			cpus[k] = append(cpus[k], (cpu1-cpu0)/time.Duration(max(runs1-runs0, 1)))
		}
	}

	fmt.Printf("%s (%s): one [1,1,28,28] image per AI.MODELEXECUTE, THREADS_PER_QUEUE %d, medians of %d interleaved repeats of %v\n",
		name, backend, queueThreads, batchingRepeats, duration)
	fmt.Printf("  %-26s %11s %6s %9s %6s %12s %10s %6s\n", "stored as", fmt.Sprintf("%d clients", modelClients), "ratio",
		"CPU/run", "ratio", "1 client p50", "p99", "ratio")
	figures := make([]batchingFigures, len(batchingVariants))
	for k := range batchingVariants {
		figures[k] = batchingFigures{medianRate(rates[k]), percentile(cpus[k], 0.5), percentile(p50s[k], 0.5), percentile(p99s[k], 0.5)}
	}
	base := figures[0]
	for k, v := range batchingVariants {
		f := figures[k]
		fmt.Printf("  %-26s %9.0f/s %6.2f %7.1fµs %6.2f %10.1fµs %8.1fµs %6.2f\n", v.name, f.rate, f.rate/base.rate,
			us(f.cpu), float64(f.cpu)/float64(base.cpu), us(f.p50), us(f.p99), float64(f.p99)/float64(base.p99))
	}
	if err := printBackendRows(backend, blob, input); err != nil {
		return err
	}
	fmt.Println()
	return nil
}

func medianRate(rs []float64) float64 {
	s := slices.Clone(rs)
	slices.Sort(s)
	return s[len(s)/2]
}

// serverUsage is the server's CPU time so far (all its threads) and its AI.MODELEXECUTE calls.
func serverUsage(srv *redistest.Server) (time.Duration, int64, error) {
	cpu, err := srv.Info("cpu")
	if err != nil {
		return 0, 0, err
	}
	stats, err := srv.Info("commandstats")
	if err != nil {
		return 0, 0, err
	}
	var seconds float64
	for _, f := range []string{"used_cpu_sys", "used_cpu_user"} {
		v, err := strconv.ParseFloat(cpu[f], 64)
		if err != nil {
			return 0, 0, fmt.Errorf("INFO cpu %s: %v", f, err)
		}
		seconds += v
	}
	calls, _ := strconv.ParseInt(field(stats["cmdstat_ai.modelexecute"], "calls"), 10, 64)
	return time.Duration(seconds * float64(time.Second)), calls, nil
}

// printBackendRows prints what the backend itself gains from batching, which bounds what
// batching can gain through the server: the model called in this process on one thread, per
// image, at batch 1 and at BATCHSIZE. It counts the thread's CPU time, not the clock's, so that
// other processes on a shared machine do not count.
func printBackendRows(backend string, blob, image []byte) error {
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
	perRow := map[int64]time.Duration{}
	for _, rows := range []int64{1, batchingSize} {
		in, err := tensor.FromBlob(tensor.Float, []int64{rows, 1, 28, 28}, bytes.Repeat(image, int(rows)))
		if err != nil {
			return err
		}
		run := func() error {
			outs, err := model.Run([]tensor.Tensor{in})
			for _, o := range outs {
				o.Release()
			}
			return err
		}
		latency(run, 200*time.Millisecond)
		runtime.LockOSThread()
		pid, tid := os.Getpid(), syscall.Gettid()
		start, err1 := threadCPU(pid, tid)
		lat, err := latency(run, time.Second)
		end, err2 := threadCPU(pid, tid)
		runtime.UnlockOSThread()
		in.Release()
		if err = errors.Join(err, err1, err2); err != nil {
			return err
		}
		cpu := end - start
		perRow[rows] = cpu / time.Duration(int64(len(lat))*rows)
	}
	fmt.Printf("  backend in process, per image: batch 1 %.1fµs, batch %d %.1fµs: batching saves the model at most %.2fx\n",
		us(perRow[1]), batchingSize, us(perRow[batchingSize]), float64(perRow[1])/float64(perRow[batchingSize]))
	return nil
}
