package main

// The batching suite: one model stored without batching and with RedisAI's autobatching options,
// on one server, measured back to back so that the ratios between them hold on a noisy machine.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

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

var batchingVariants = []batchingVariant{
	{"unbatched", nil},
	{"BATCHSIZE 16", []string{"BATCHSIZE", "16"}},
	{"BATCHSIZE 16 MIN 8 / 2 ms", []string{"BATCHSIZE", "16", "MINBATCHSIZE", "8", "MINBATCHTIMEOUT", "2"}},
}

// batchingFigures are one variant's medians.
type batchingFigures struct {
	rate     float64 // runs/s with modelClients clients
	p50, p99 time.Duration
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
			rate, err := throughput(calls, duration)
			if err != nil {
				return err
			}
			rates[k] = append(rates[k], rate)
		}
	}

	fmt.Printf("%s (%s): one [1,1,28,28] image per AI.MODELEXECUTE, THREADS_PER_QUEUE %d, medians of %d interleaved repeats of %v\n",
		name, backend, queueThreads, batchingRepeats, duration)
	fmt.Printf("  %-28s %12s %8s %12s %12s %8s\n", "stored as", fmt.Sprintf("%d clients", modelClients), "ratio", "1 client p50", "p99", "p99 ratio")
	base := batchingFigures{medianRate(rates[0]), percentile(p50s[0], 0.5), percentile(p99s[0], 0.5)}
	for k, v := range batchingVariants {
		f := batchingFigures{medianRate(rates[k]), percentile(p50s[k], 0.5), percentile(p99s[k], 0.5)}
		fmt.Printf("  %-28s %10.0f/s %8.2f %10.1fµs %10.1fµs %8.2f\n", v.name, f.rate, f.rate/base.rate,
			us(f.p50), us(f.p99), float64(f.p99)/float64(base.p99))
	}
	fmt.Println()
	return nil
}

func medianRate(rs []float64) float64 {
	s := slices.Clone(rs)
	slices.Sort(s)
	return s[len(s)/2]
}
