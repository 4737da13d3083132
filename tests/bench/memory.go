package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// memorySizes are the payloads of the memory sweep, from 64 B to 64 MiB.
var memorySizes = []int{64, 1 << 10, 4 << 10, 64 << 10, 1 << 20, 8 << 20, 64 << 20}

// benchMemory prints used_memory per stored FLOAT tensor against a string of the same bytes (SET), on
// one server, for each size of the sweep; 1 on a failure.
func benchMemory(module string) int {
	srv, err := redistest.Launch(redistest.Options{ModulePath: module})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	fmt.Printf("memory: used_memory per key (at least 4 keys and 4 MiB per cell, written from a connection closed before measuring), module %s\n", module)
	fmt.Printf("%-10s %14s %14s %7s %16s\n", "payload", "SET bytes/key", "TENSOR B/key", "ratio", "TENSOR/payload")
	for _, size := range memorySizes {
		str, err := perKey(srv, size, func(key string, blob []byte) []any { return []any{"SET", key, blob} })
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tensor, err := perKey(srv, size, func(key string, blob []byte) []any {
			return []any{"AI.TENSORSET", key, "FLOAT", strconv.Itoa(len(blob) / 4), "BLOB", blob}
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%-10s %14.0f %14.0f %7.2f %16.3f\n", sizeName(size), str, tensor, tensor/str, tensor/float64(size))
	}
	return 0
}

// perKey stores enough keys of one size with set, then measures used_memory's growth per key and
// deletes them.
func perKey(srv *redistest.Server, size int, set func(key string, blob []byte) []any) (float64, error) {
	keys := max(4, (4<<20)/size)
	blob := make([]byte, size)
	c, err := srv.Dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	before, err := usedMemory(srv)
	if err != nil {
		return 0, err
	}
	w, err := srv.Dial()
	if err != nil {
		return 0, err
	}
	for k := range keys {
		if v, err := w.Do(set("mem:"+strconv.Itoa(k), blob)...); err != nil || v.Kind == resp.Error {
			w.Close()
			return 0, fmt.Errorf("storing %d bytes: %v %v", size, v, err)
		}
	}
	w.Close() // its query buffer goes before the measure
	time.Sleep(200 * time.Millisecond)
	after, err := usedMemory(srv)
	if err != nil {
		return 0, err
	}
	if _, err := c.Do("FLUSHALL"); err != nil {
		return 0, err
	}
	return float64(after-before) / float64(keys), nil
}

func usedMemory(srv *redistest.Server) (int64, error) {
	info, err := srv.Info("memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(info["used_memory"], 10, 64)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}
