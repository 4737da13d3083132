package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"strings"
	"unsafe"
)

// gitSHA is the commit gorai_go.so was built from, set by the Makefile.
var gitSHA = "unknown"

// goraiInfo writes the module's INFO sections.
//
//export goraiInfo
func goraiInfo(ctx *C.RedisModuleInfoCtx, forCrashReport C.int) {
	defer recoverEntry(nil, "writing INFO", nil)
	ai.Info(infoWriter{ctx}, gitSHA)
}

// infoWriter is a server.InfoWriter over Redis' INFO context. Names and values go through oneInfoLine:
// Redis writes them as they are, and a client's device string or an admin's BACKENDSPATH with a line
// break in it wrote fields of its own into INFO (`role:slave` on a master).
type infoWriter struct{ ctx *C.RedisModuleInfoCtx }

var oneInfoLine = strings.NewReplacer("\r", " ", "\n", " ")

func (w infoWriter) Section(name string) {
	c := C.CString(oneInfoLine.Replace(name))
	defer C.free(unsafe.Pointer(c))
	C.gorai_info_section(w.ctx, c)
}

func (w infoWriter) String(field, value string) {
	f, v := C.CString(oneInfoLine.Replace(field)), C.CString(oneInfoLine.Replace(value))
	defer C.free(unsafe.Pointer(f))
	defer C.free(unsafe.Pointer(v))
	C.gorai_info_string(w.ctx, f, v)
}

func (w infoWriter) Integer(field string, value int64) {
	f := C.CString(oneInfoLine.Replace(field))
	defer C.free(unsafe.Pointer(f))
	C.gorai_info_integer(w.ctx, f, C.longlong(value))
}
