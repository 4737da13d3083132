package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"unsafe"

	"gorai/backends"
	// The backends: each registers itself (backends.Register) under RedisAI's name and RDB number.
	// A new backend is one more import here; everything else the module knows of it is its Driver.
	_ "gorai/backends/onnx"
	_ "gorai/backends/tf"
	_ "gorai/backends/tflite"
	_ "gorai/backends/torch"
)

// backendName is the name of the backend with RDB number i ("" if none is registered).
func backendName(i C.uint64_t) string {
	if i > C.uint64_t(^uint(0)>>1) {
		return ""
	}
	d, _ := backends.ByIndex(int(i))
	return d.Name
}

// backendIndex is the RDB number of the named backend.
func backendIndex(name string) C.uint64_t {
	d, _ := backends.Lookup(name)
	return C.uint64_t(d.RDBIndex)
}

// shareBackends gives the C side the registry's names and node-name switches by RDB number (for
// RDB loads and the AOF rewrite, which runs in a forked child where no Go may run). Once, at load.
func shareBackends() {
	if C.gorai_backend_names != nil {
		return
	}
	ds := backends.Drivers()
	n := 0
	if len(ds) > 0 {
		n = ds[len(ds)-1].RDBIndex + 1
	}
	names := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	nodeNames := (*C.uchar)(C.calloc(C.size_t(n+1), 1))
	for _, d := range ds {
		unsafe.Slice(names, n)[d.RDBIndex] = C.CString(d.Name)
		if d.NodeNames {
			unsafe.Slice(nodeNames, n)[d.RDBIndex] = 1
		}
	}
	C.gorai_backend_names, C.gorai_backend_node_names, C.gorai_backend_count = names, nodeNames, C.uint64_t(n)
}
