package commands

// Script commands: AI.SCRIPTSTORE, AI.SCRIPTSET (deprecated), AI.SCRIPTGET, AI.SCRIPTDEL,
// AI.SCRIPTEXECUTE, AI.SCRIPTRUN (deprecated), AI._SCRIPTSCAN.

import (
	"bytes"
	"slices"
	"time"

	"gorai/backends"
	"gorai/exec"
	"gorai/tensor"
)

// ScriptMeta is what is stored with a script besides its source.
type ScriptMeta struct {
	Device      string // as the client typed it
	Tag         []byte
	EntryPoints []string // empty for scripts stored with AI.SCRIPTSET
}

// Script is a stored script, borrowed from the keyspace for the length of a command.
type Script interface {
	exec.StoredScript
	Meta() ScriptMeta
	// Source is the TorchScript source exactly as it was stored.
	Source() []byte
}

var (
	errScriptEmpty          = errf("ERR script key is empty")
	errMissingEntryPoints   = errf("ERR Insufficient arguments, missing script entry points")
	errMissingSource        = errf("ERR Insufficient arguments, missing script SOURCE")
	errScriptExecuteArity   = errf("ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command")
	errScriptRunArity       = errf("ERR wrong number of arguments for 'AI.SCRIPTRUN' command")
	errScriptExecuteFirst   = errf("ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command")
	errScriptExecuteNoCount = errf("ERR Invalid arguments provided to AI.SCRIPTEXECUTE")
)

// ScriptStore: AI.SCRIPTSTORE key device [TAG t] ENTRY_POINTS n fn... SOURCE src
func ScriptStore(env Env, args [][]byte) error {
	meta, source, err := parseScriptStore(args[2:])
	if err != nil {
		return err
	}
	return storeScript(env, args[1], meta, source)
}

// parseScriptStore reads "device [TAG t] ENTRY_POINTS n fn... SOURCE src". The device is not
// checked here (the backend does), and, as RedisAI, anything after the source is ignored.
func parseScriptStore(args [][]byte) (ScriptMeta, []byte, error) {
	m, rest := scriptDeviceAndTag(args)
	if len(rest) == 0 || !is(rest[0], "ENTRY_POINTS") {
		return m, nil, errMissingEntryPoints
	}
	n, ok := int64(0), len(rest) > 1
	if ok {
		n, ok = tensor.ParseInt(rest[1])
	}
	if !ok {
		return m, nil, errf("ERR Non numeric entry points number provided to AI.SCRIPTSTORE command")
	}
	// A negative count makes RedisAI read names until the arguments run out.
	if n < 0 || int64(len(rest)-2) < n {
		return m, nil, errMissingEntryPoints
	}
	m.EntryPoints = toStrings(rest[2 : 2+n])
	rest = rest[2+n:]
	if len(rest) < 2 || !is(rest[0], "SOURCE") {
		return m, nil, errMissingSource
	}
	return m, rest[1], nil
}

// scriptDeviceAndTag reads "device [TAG t]" and returns what follows.
func scriptDeviceAndTag(args [][]byte) (ScriptMeta, [][]byte) {
	m := ScriptMeta{Device: string(deviceString(args[0])), Tag: []byte{}}
	rest := args[1:]
	if len(rest) > 1 && is(rest[0], "TAG") {
		m.Tag, rest = rest[1], rest[2:]
	}
	return m, rest
}

// storeScript compiles the script, then stores it (see storeBuilt).
func storeScript(env Env, key []byte, meta ScriptMeta, source []byte) error {
	source = bytes.Clone(source) // the build may outlive the command's arguments
	build := func(b Builder) (backends.Script, error) { return b.OpenScript(meta, source) }
	return storeBuilt(env, key, build, func(keys Keyspace, key []byte, compiled backends.Script) error {
		if _, err := keys.Script(key); err != nil {
			return err
		}
		keys.SetScript(key, meta, compiled, source)
		return nil
	}, nil)
}

// ScriptSet: the deprecated AI.SCRIPTSET key device [TAG t] SOURCE src, stored without entry points
// (its functions then run in RedisAI's legacy positional mode).
func ScriptSet(env Env, args [][]byte) error {
	if len(args) == 6 { // the table takes 5 to 7
		return ErrWrongArity
	}
	meta, rest := scriptDeviceAndTag(args[2:])
	if len(rest) < 2 || !is(rest[0], "SOURCE") {
		return errMissingSource
	}
	return storeScript(env, args[1], meta, rest[1])
}

// existingScript is the script at key, or the error for an empty key or another type.
func existingScript(env Env, key []byte) (Script, error) {
	s, err := env.Keys.Script(key)
	if err == nil && s == nil {
		err = errScriptEmpty
	}
	return s, err
}

// ScriptGet: AI.SCRIPTGET key [META] [SOURCE]
func ScriptGet(env Env, args [][]byte) error {
	s, err := existingScript(env, args[1])
	if err != nil {
		return err
	}
	meta, source := indexOf(args, "META", 2) >= 0, indexOf(args, "SOURCE", 2) >= 0
	out := env.Out
	if source && !meta {
		out.BulkBytes(s.Source())
		return nil
	}
	withSource := source || !meta
	n := 6
	if withSource {
		n = 8
	}
	md := s.Meta()
	out.Array(n)
	out.Bulk("device")
	out.Bulk(md.Device)
	out.Bulk("tag")
	out.BulkBytes(md.Tag)
	out.Bulk("Entry Points")
	replyStrings(out, md.EntryPoints)
	if withSource {
		out.Bulk("source")
		out.BulkBytes(s.Source())
	}
	return nil
}

// ScriptDel: AI.SCRIPTDEL key
func ScriptDel(env Env, args [][]byte) error {
	if _, err := existingScript(env, args[1]); err != nil {
		return err
	}
	env.Keys.Delete(args[1])
	env.Keys.ReplicateVerbatim()
	env.Out.OK()
	return nil
}

// scriptCall is a parsed AI.SCRIPTEXECUTE or AI.SCRIPTRUN; the slices point into the arguments.
type scriptCall struct {
	function                      []byte
	keys, inputs, params, outputs [][]byte
	timeout                       time.Duration
}

// ScriptExecute: AI.SCRIPTEXECUTE key function (KEYS n k... | INPUTS n in...) [KEYS n k...]
// [INPUTS n in...] [ARGS n a...] [OUTPUTS n out...] [TIMEOUT ms]: the sections after the first in
// any order, each at most once, TIMEOUT last.
func ScriptExecute(env Env, args [][]byte) error {
	s, err := existingScript(env, args[1])
	if err != nil {
		return err
	}
	call, err := parseScriptExecute(args)
	if err != nil {
		return err
	}
	return runScript(env, s, call)
}

// scriptSection is one counted section of AI.SCRIPTEXECUTE.
type scriptSection struct {
	word  string // the keyword
	count string // the word in "Invalid argument for <count> count" (ARGS reuses "keys", as RedisAI)
	noun  string // the word in "number of <noun> to AI.SCRIPTEXECUTE command does not match"
}

var scriptSections = []scriptSection{
	{"KEYS", "keys", "keys"}, {"INPUTS", "inputs", "inputs"}, {"ARGS", "keys", "args"}, {"OUTPUTS", "outputs", "outputs"},
}

func parseScriptExecute(args [][]byte) (scriptCall, error) {
	if len(args) < 4 || !is(args[3], "KEYS") && !is(args[3], "INPUTS") {
		return scriptCall{function: args[2]}, errScriptExecuteFirst
	}
	return parseScriptSections(args)
}

// parseScriptSections reads AI.SCRIPTEXECUTE's function and sections (args[0] is the command name,
// len(args) ≥ 3), without the rule that the first section is KEYS or INPUTS: the DAG's
// SCRIPTEXECUTE ops, which RedisAI does not hold to that rule, share it.
func parseScriptSections(args [][]byte) (scriptCall, error) {
	call := scriptCall{function: args[2]}
	dest := []*[][]byte{&call.keys, &call.inputs, &call.params, &call.outputs}
	var done [4]bool
	pos := 3
	for pos < len(args) {
		word := args[pos]
		pos++
		if is(word, "TIMEOUT") {
			if pos >= len(args) {
				return call, errf("ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE")
			}
			var err error
			if call.timeout, err = timeoutValue(args[pos]); err != nil {
				return call, err
			}
			if pos+1 != len(args) {
				return call, errf("ERR Encountered problem parsing AI.SCRIPTEXECUTE")
			}
			return call, nil
		}
		i := slices.IndexFunc(scriptSections, func(s scriptSection) bool { return is(word, s.word) })
		if i < 0 {
			return call, errf("ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: " + string(word))
		}
		sec := scriptSections[i]
		if done[i] {
			return call, errf("ERR Already Encountered " + sec.word + " scope in AI.SCRIPTEXECUTE command")
		}
		done[i] = true
		var names [][]byte
		var err error
		if sec.word == "KEYS" {
			names, err = scriptKeys(args[pos-1:])
		} else {
			names, err = scriptSectionNames(args[pos:], sec)
		}
		if err != nil {
			return call, err
		}
		*dest[i] = names
		pos += 1 + len(names)
	}
	return call, nil
}

// scriptKeys reads "KEYS n key..." as RedisAI validates it (n ≥ 1), and returns the keys.
func scriptKeys(args [][]byte) ([][]byte, error) {
	if len(args) < 3 {
		return nil, errf("ERR Missing arguments after KEYS keyword")
	}
	n, ok := tensor.ParseInt(args[1])
	if !ok || n <= 0 {
		return nil, errf("ERR Invalid or negative value found in number of KEYS")
	}
	if int64(len(args)-2) < n {
		return nil, errf("ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments")
	}
	return args[2 : 2+n], nil
}

// scriptSectionNames reads "n name..." after INPUTS, ARGS or OUTPUTS (n ≥ 0; RedisAI lets some
// negative counts through by unsigned wrap-around, which is not copied).
func scriptSectionNames(args [][]byte, sec scriptSection) ([][]byte, error) {
	if len(args) == 0 {
		return nil, errScriptExecuteNoCount
	}
	n, ok := tensor.ParseInt(args[0])
	if !ok || n < 0 {
		return nil, errf("ERR Invalid argument for " + sec.count + " count in AI.SCRIPTEXECUTE")
	}
	if int64(len(args)-1) < n {
		return nil, errf("ERR number of " + sec.noun + " to AI.SCRIPTEXECUTE command does not match the number of given arguments")
	}
	return args[1 : 1+n], nil
}

// timeoutValue is a TIMEOUT in milliseconds (> 0), kept within time.Duration's range.
func timeoutValue(arg []byte) (time.Duration, error) {
	ms, ok := tensor.ParseInt(arg)
	if !ok || ms <= 0 {
		return 0, errInvalidTimeout
	}
	return Duration(ms, time.Millisecond), nil
}

// runScript reads the input tensors and hands the run to the runtime, which replies when it is done.
func runScript(env Env, s Script, call scriptCall) error {
	tensors, err := readInputs(env, call.inputs)
	if err != nil {
		return err
	}
	op := exec.Op{Kind: exec.ScriptRun, Script: s, Function: string(call.function), Keys: toStrings(call.keys),
		Args: toStrings(call.params)}
	return execute(env, exec.Single(op, tensors, call.outputs, call.timeout))
}

// ScriptExecuteKeys are the keys of AI.SCRIPTEXECUTE: the script, KEYS and INPUTS, read, and
// OUTPUTS, written (not ARGS), as far as the sections are well formed.
func ScriptExecuteKeys(args [][]byte) []KeyArg {
	if len(args) < 2 {
		return nil
	}
	keys := []KeyArg{{1, KeyRead}}
	for pos := 3; pos+1 < len(args); {
		word := args[pos]
		if !slices.ContainsFunc(scriptSections, func(s scriptSection) bool { return is(word, s.word) }) {
			break // TIMEOUT ends the command; anything else is an error
		}
		n, ok := tensor.ParseInt(args[pos+1])
		if !ok || n < 0 || int64(len(args)-pos-2) < n {
			break
		}
		if !is(word, "ARGS") {
			use := KeyRead
			if is(word, "OUTPUTS") {
				use = KeyWrite
			}
			for j := 0; j < int(n); j++ {
				keys = append(keys, KeyArg{pos + 2 + j, use})
			}
		}
		pos += 2 + int(n)
	}
	return keys
}

// ScriptRun: the deprecated AI.SCRIPTRUN key function [TIMEOUT ms] INPUTS in... [$ in...]
// OUTPUTS out..., run as AI.SCRIPTEXECUTE with INPUTS and OUTPUTS only. TIMEOUT may come anywhere
// after the function; `$` (the start of a variadic list, which RedisAI 1.2.7 records but does not
// use) is dropped.
func ScriptRun(env Env, args [][]byte) error {
	s, err := existingScript(env, args[1])
	if err != nil {
		return err
	}
	call, err := parseScriptRun(args)
	if err != nil {
		return err
	}
	return runScript(env, s, call)
}

func parseScriptRun(args [][]byte) (scriptCall, error) {
	call := scriptCall{function: args[2]}
	const (
		before = iota
		inInputs
		inOutputs
	)
	section, timeoutSet, inputsDone, variadic := before, false, false, false
	for pos := 3; pos < len(args); pos++ {
		a := args[pos]
		switch {
		case is(a, "TIMEOUT"):
			if timeoutSet {
				return call, errf("ERR Already encountered an TIMEOUT section in SCRIPTRUN")
			}
			pos++
			if pos == len(args) {
				return call, errInvalidTimeout
			}
			var err error
			if call.timeout, err = timeoutValue(args[pos]); err != nil {
				return call, err
			}
			timeoutSet = true
		case is(a, "INPUTS"):
			if inputsDone {
				return call, errf("ERR Already encountered an INPUTS section in SCRIPTRUN")
			}
			if section == inInputs {
				return call, errf("ERR Already encountered an INPUTS keyword in SCRIPTRUN")
			}
			section = inInputs
		case is(a, "OUTPUTS"):
			if section == inOutputs {
				return call, errf("ERR Already encountered an OUTPUTS keyword in SCRIPTRUN")
			}
			section, inputsDone = inOutputs, true
		case string(a) == "$":
			if section != inInputs {
				return call, errf("ERR Encountered a variable size list of tensors outside of input section")
			}
			if variadic {
				return call, errf("ERR Already encountered a variable size list of tensors")
			}
			variadic = true
		case section == inInputs:
			call.inputs = append(call.inputs, a)
		case section == inOutputs:
			call.outputs = append(call.outputs, a)
		default:
			return call, errf("ERR Unrecongnized parameter to SCRIPTRUN")
		}
	}
	return call, nil
}

// ScriptRunKeys are the keys of AI.SCRIPTRUN: the script and every input name, read, and every
// output name, written (not the keywords, `$`, or TIMEOUT and its value).
func ScriptRunKeys(args [][]byte) []KeyArg {
	if len(args) < 2 {
		return nil
	}
	keys := []KeyArg{{1, KeyRead}}
	named, use := false, KeyRead // inside INPUTS or OUTPUTS; which
	for pos := 3; pos < len(args); pos++ {
		a := args[pos]
		switch {
		case is(a, "TIMEOUT"):
			pos++
		case is(a, "INPUTS"), is(a, "OUTPUTS"):
			named, use = true, KeyRead
			if is(a, "OUTPUTS") {
				use = KeyWrite
			}
		case string(a) == "$":
		case named:
			keys = append(keys, KeyArg{pos, use})
		}
	}
	return keys
}

// ScriptScan: AI._SCRIPTSCAN lists [key, tag] of every script the stats know that the user may read.
func ScriptScan(env Env, args [][]byte) error {
	return scan(env, args, true)
}
