// Command bench measures gorai against a redis-server with the module loaded: tensor commands
// against SET and GET of the same bytes (tensors.go), used_memory per tensor (memory.go), and model
// runs against the backend in process (models.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"gorai/tests/redistest"
)

func main() {
	duration := flag.Duration("duration", 2*time.Second, "measured time per cell and mode")
	warmup := flag.Duration("warmup", 200*time.Millisecond, "unmeasured warm-up per cell and mode")
	module := flag.String("module", redistest.ModulePath(), "module to load (default $GORAI_MODULE or <repo>/build/gorai.so)")
	repeats := flag.Int("repeats", 3, "runs of each cell, whose medians are printed (tensor, model and batching suites)")
	only := flag.String("model", "", "run only the models whose name contains this (models suite): mnist, CNN, Keras")
	suites := flag.String("suite", "tensors,memory,models,batching,start", "comma-separated suites to run: tensors, memory, models, batching, start")
	startRepeats := flag.Int("start-repeats", 7, "starts of each server (start suite)")
	startSettle := flag.Duration("start-settle", 2*time.Second, "wait after the first PONG before the second RSS reading (start suite)")
	startCompare := flag.String("start-compare", "", "comma-separated other module files to start interleaved with -module, e.g. an older build (start suite)")
	flag.Parse()
	if *repeats < 1 {
		fmt.Fprintln(os.Stderr, "-repeats must be at least 1")
		os.Exit(2)
	}

	status := 0
	for _, s := range strings.Split(*suites, ",") {
		switch strings.TrimSpace(s) {
		case "tensors":
			status |= benchTensors(*module, *duration, *warmup, *repeats)
		case "memory":
			status |= benchMemory(*module)
		case "models":
			status |= benchModels(*module, *duration, *warmup, *repeats, *only)
		case "batching":
			status |= benchBatching(*module, *duration, *warmup, *repeats)
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
