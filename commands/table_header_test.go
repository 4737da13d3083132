package commands

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite module/command_table.h from Commands")

// commandTableHeader is the C the module registers the commands from at load, before Go is loaded:
// Commands is the one table, and this its copy for C.
func commandTableHeader() []byte {
	var b bytes.Buffer
	b.WriteString("/* Generated from commands.Commands (commands/table.go) by\n" +
		" *     go test ./commands -run TestCommandTableHeader -update\n" +
		" * do not edit. The module registers every command from it at load, without Go. */\n" +
		"#ifndef GORAI_COMMAND_TABLE_H\n#define GORAI_COMMAND_TABLE_H\n\n")
	b.WriteString("/* What a command does with its key (commands.KeyUse); GORAI_KEY_NONE: no key spec is set. */\n")
	fmt.Fprintf(&b, "enum { GORAI_KEY_NONE = -1, GORAI_KEY_READ = %d, GORAI_KEY_WRITE = %d, GORAI_KEY_ROUTE = %d, GORAI_KEY_DELETE = %d };\n\n",
		KeyRead, KeyWrite, KeyRoute, KeyDelete)
	b.WriteString("/* X(slot, name, flags, first key, last key, key step, key spec use, runs in C, fewest arguments,\n" +
		" *   most arguments) */\n#define GORAI_COMMAND_TABLE(X) \\\n")
	uses := map[KeyUse]string{KeyRead: "GORAI_KEY_READ", KeyWrite: "GORAI_KEY_WRITE", KeyRoute: "GORAI_KEY_ROUTE", KeyDelete: "GORAI_KEY_DELETE"}
	for slot, c := range Commands {
		use := "GORAI_KEY_NONE"
		if c.Keys == nil && c.FirstKey == 1 {
			use = uses[c.Use]
		}
		inC := 0
		if c.InC {
			inC = 1
		}
		lo, hi := c.ArgCounts()
		fmt.Fprintf(&b, "    X(%d, %q, %q, %d, %d, %d, %s, %d, %d, %d) \\\n", slot, c.Name, c.Flags, c.FirstKey, c.LastKey,
			c.KeyStep, use, inC, lo, hi)
	}
	fmt.Fprintf(&b, "\n#define GORAI_NUM_COMMANDS %d\n\n#endif\n", len(Commands))
	return b.Bytes()
}

// The header the module is built from is the one Commands makes.
func TestCommandTableHeader(t *testing.T) {
	const path = "../module/command_table.h"
	want := commandTableHeader()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what commands.Commands makes: run go test ./commands -run TestCommandTableHeader -update", path)
	}
}
