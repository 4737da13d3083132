package commands

// Model commands: AI.MODELSTORE, AI.MODELSET (deprecated), AI.MODELGET, AI.MODELDEL,
// AI.MODELEXECUTE, AI.MODELRUN (deprecated), AI._MODELSCAN.

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"gorai/backends"
	"gorai/exec"
	"gorai/stats"
	"gorai/tensor"
)

// ModelMeta is what is stored with a model besides its blob.
type ModelMeta struct {
	Backend         string // upper-case: TF, TFLITE, TORCH, ONNX
	Device          string // as the client typed it
	Tag             []byte
	BatchSize       int64
	MinBatchSize    int64
	MinBatchTimeout int64
	Inputs, Outputs []string
}

// Model is a stored model, borrowed from the keyspace for the length of a command.
type Model interface {
	exec.StoredModel
	Meta() ModelMeta
	// Arity is the number of inputs and outputs the model takes and gives.
	Arity() (inputs, outputs int)
	// Blob is the model exactly as it was stored.
	Blob() []byte
}

var (
	errUnsupportedBackend = errf("ERR unsupported backend")
	errInvalidDevice      = errf("ERR Invalid DEVICE")
	errMissingBlob        = errf("ERR Insufficient arguments, missing model BLOB")
	errExpectedBlob       = errf("ERR Invalid argument, expected BLOB")
	// ErrModelEmpty: no model at the key (also what scripts' redisAI.model_execute raises).
	ErrModelEmpty         = errf("ERR model key is empty")
	errModelExecuteArity  = errf("ERR wrong number of arguments for 'AI.MODELEXECUTE' command")
	errModelRunArity      = errf("ERR wrong number of arguments for 'AI.MODELRUN' command")
	errInputsNotSpecified = errf("ERR INPUTS not specified")
	errNoTimeoutValue     = errf("ERR No value provided for TIMEOUT")
	errInvalidTimeout     = errf("ERR Invalid value for TIMEOUT")
	errCannotFindRunInfo  = errf("ERR cannot find run info for key")
)

func is(arg []byte, word string) bool { return bytes.EqualFold(arg, []byte(word)) }

// parseBackend is a registered backend's name, upper-case.
func parseBackend(arg []byte) (string, error) {
	for _, b := range backends.Names() {
		if is(arg, b) {
			return b, nil
		}
	}
	return "", errUnsupportedBackend
}

// takesNodeNames: the backend's models are stored with INPUTS and OUTPUTS (TF's).
func takesNodeNames(backend string) bool {
	d, _ := backends.Lookup(backend)
	return d.NodeNames
}

// deviceString is a device argument as RedisAI read it, a C string: up to its first NUL. Kept whole,
// "CPU\x00x" was CPU in the model's metadata and its RDB file, and a queue and INFO fields of its own.
func deviceString(arg []byte) []byte {
	if i := bytes.IndexByte(arg, 0); i >= 0 {
		return arg[:i]
	}
	return arg
}

// validDevice: CPU, GPU, CPU:<digits> or GPU:<digits>, shorter than 10 bytes.
func validDevice(d []byte) bool {
	if len(d) < 3 || len(d) >= 10 || !(is(d[:3], "CPU") || is(d[:3], "GPU")) {
		return false
	}
	if len(d) == 3 {
		return true
	}
	if d[3] != ':' || len(d) == 4 {
		return false
	}
	for _, c := range d[4:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ModelStore: AI.MODELSTORE key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m
// [MINBATCHTIMEOUT t]]] [INPUTS n name... OUTPUTS m name...] BLOB chunk...
func ModelStore(env Env, args [][]byte) error {
	meta, chunks, err := parseModelStore(args[2:])
	if err != nil {
		return err
	}
	return storeModel(env, args[1], meta, env.Runtime.JoinBlob(chunks))
}

// storeModel builds the model, then stores it (see storeBuilt); the stored model adopts blob,
// which is freed if the model is not stored.
func storeModel(env Env, key []byte, meta ModelMeta, blob Blob) error {
	build := func(b Builder) (backends.Model, error) { return b.OpenModel(meta, blob.Bytes()) }
	return storeBuilt(env, key, build, func(keys Keyspace, key []byte, session backends.Model) error {
		if _, err := keys.Model(key); err != nil {
			return err
		}
		keys.SetModel(key, meta, session, blob)
		return nil
	}, blob.Free)
}

// parseModelHead reads what AI.MODELSTORE and AI.MODELSET begin with: the backend, a device that
// deviceOK takes, and the options after them (see parseModelOptions); it returns the arguments left.
func parseModelHead(args [][]byte, deviceOK func([]byte) bool, storeRules bool) (ModelMeta, [][]byte, error) {
	var m ModelMeta
	var err error
	if m.Backend, err = parseBackend(args[0]); err != nil {
		return m, nil, err
	}
	device := deviceString(args[1])
	if !deviceOK(device) {
		return m, nil, errInvalidDevice
	}
	m.Device = string(device)
	rest, err := parseModelOptions(&m, args[2:], storeRules)
	return m, rest, err
}

// parseModelStore returns the metadata and the blob's chunks (views of args).
func parseModelStore(args [][]byte) (ModelMeta, [][]byte, error) {
	m, rest, err := parseModelHead(args, validDevice, true)
	if err != nil {
		return m, nil, err
	}
	if len(rest) == 0 {
		return m, nil, errMissingBlob
	}
	if takesNodeNames(m.Backend) {
		if m.Inputs, rest, err = countedNames(rest, "INPUTS", "input", "inputs"); err != nil {
			return m, nil, err
		}
		if m.Outputs, rest, err = countedNames(rest, "OUTPUTS", "output", "outputs"); err != nil {
			return m, nil, err
		}
		if len(rest) == 0 {
			return m, nil, errExpectedBlob
		}
	} else if is(rest[0], "INPUTS") {
		return m, nil, errf("ERR INPUTS argument should not be specified for this backend")
	}
	if !is(rest[0], "BLOB") {
		return m, nil, errExpectedBlob
	}
	if len(rest) == 1 {
		return m, nil, errMissingBlob
	}
	return m, rest[1:], nil
}

// parseModelOptions reads [TAG t] [BATCHSIZE n] [MINBATCHSIZE m] [MINBATCHTIMEOUT t], in that order,
// into m and returns what follows. MODELSET (storeRules false) first tells a MINBATCHTIMEOUT
// without BATCHSIZE apart.
func parseModelOptions(m *ModelMeta, rest [][]byte, storeRules bool) ([][]byte, error) {
	m.Tag = []byte{}
	if len(rest) > 0 && is(rest[0], "TAG") {
		if len(rest) < 2 {
			return nil, errMissingBlob
		}
		m.Tag, rest = rest[1], rest[2:]
	}
	for _, o := range batchingOptions(m) {
		if len(rest) == 0 || !is(rest[0], o.name) {
			continue
		}
		var n int64
		ok := len(rest) > 1
		if ok {
			n, ok = tensor.ParseInt(rest[1])
		}
		if !ok || n < 0 {
			return nil, errInvalidBatching(o.name)
		}
		*o.value, rest = n, rest[2:]
	}
	if err := batchingRules(m, storeRules); err != nil {
		return nil, err
	}
	return rest, nil
}

type batchingOption struct {
	name  string
	value *int64
}

func batchingOptions(m *ModelMeta) []batchingOption {
	return []batchingOption{{"BATCHSIZE", &m.BatchSize}, {"MINBATCHSIZE", &m.MinBatchSize}, {"MINBATCHTIMEOUT", &m.MinBatchTimeout}}
}

func errInvalidBatching(name string) error { return errf("ERR Invalid argument for " + name) }

// batchingRules: which batching options need which.
func batchingRules(m *ModelMeta, storeRules bool) error {
	if m.MinBatchSize > 0 && m.BatchSize == 0 {
		return errf("ERR MINBATCHSIZE specified without BATCHSIZE")
	}
	if !storeRules && m.MinBatchTimeout > 0 && m.BatchSize == 0 {
		return errf("ERR MINBATCHTIMEOUT specified without BATCHSIZE")
	}
	if m.MinBatchTimeout > 0 && m.MinBatchSize == 0 {
		return errf("ERR MINBATCHTIMEOUT specified without MINBATCHSIZE")
	}
	return nil
}

// CheckLoadedModel gives the error AI.MODELSTORE would give for a model read from RDB or a DUMP
// payload, if any: its batching options, and for TF its input and output names; a device MODELSTORE
// refuses must be one AI.MODELSET takes. A model neither takes would be lost at the replay of its AOF
// rewrite.
func CheckLoadedModel(m ModelMeta) error {
	for _, o := range batchingOptions(&m) {
		if *o.value < 0 { // beyond int64: RDB holds them unsigned
			return errInvalidBatching(o.name)
		}
	}
	if err := batchingRules(&m, true); err != nil {
		return err
	}
	if takesNodeNames(m.Backend) && len(m.Inputs) == 0 {
		return errTFNamesMissing("INPUTS")
	}
	if takesNodeNames(m.Backend) && len(m.Outputs) == 0 {
		return errTFNamesMissing("OUTPUTS")
	}
	if !validDevice([]byte(m.Device)) && !modelSetDevice([]byte(m.Device)) {
		return errInvalidDevice
	}
	return nil
}

func errTFNamesMissing(word string) error { return errf("ERR " + word + " not specified for TF") }

// countedNames takes "WORD n name..." (TF's INPUTS and OUTPUTS) from the front of args.
func countedNames(args [][]byte, word, singular, plural string) ([]string, [][]byte, error) {
	if len(args) == 0 || !is(args[0], word) {
		return nil, nil, errTFNamesMissing(word)
	}
	n, ok := int64(0), len(args) > 1
	if ok {
		n, ok = tensor.ParseInt(args[1])
	}
	if !ok || n <= 0 {
		return nil, nil, errf("ERR Invalid argument for " + singular + "_count")
	}
	if int64(len(args)-2) < n {
		return nil, nil, errf("ERR number of model " + plural + " does not match the number of given arguments")
	}
	names := make([]string, n)
	for i := range names {
		names[i] = string(args[2+i])
	}
	return names, args[2+n:], nil
}

// ModelSet: the deprecated AI.MODELSET key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m
// [MINBATCHTIMEOUT t]]] [INPUTS name... OUTPUTS name...] BLOB chunk... Its rules differ from
// MODELSTORE's (no counts, a device that is barely checked, other tokens ignored but for TF), so it
// has its own parser; storing is shared.
func ModelSet(env Env, args [][]byte) error {
	meta, chunks, err := parseModelSet(args[2:])
	if err != nil {
		return err
	}
	return storeModel(env, args[1], meta, env.Runtime.JoinBlob(chunks))
}

// modelSetKeywords may not be taken for a device by AI.MODELSET.
var modelSetKeywords = []string{"INPUTS", "OUTPUTS", "TAG", "BATCHSIZE", "MINBATCHSIZE", "MINBATCHTIMEOUT", "BLOB"}

// modelSetDevice: AI.MODELSET takes nearly any device, as RedisAI's did: up to 10 bytes, no keyword.
func modelSetDevice(d []byte) bool {
	return len(d) <= 10 && !slices.ContainsFunc(modelSetKeywords, func(k string) bool { return is(d, k) })
}

// OnlyModelSetTakes says whether device is one AI.MODELSET takes and AI.MODELSTORE refuses: such a
// model's AOF rewrite is an AI.MODELSET.
func OnlyModelSetTakes(device string) bool {
	return !validDevice([]byte(device)) && modelSetDevice([]byte(device))
}

func parseModelSet(args [][]byte) (ModelMeta, [][]byte, error) {
	m, rest, err := parseModelHead(args, modelSetDevice, false)
	if err != nil {
		return m, nil, err
	}
	if m.Backend == "TFLITE" && m.BatchSize > 0 {
		return m, nil, errf("ERR Auto-batching not supported by the TFLITE backend")
	}
	blob := indexOf(rest, "BLOB", 0)
	if takesNodeNames(m.Backend) {
		end := blob
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return m, nil, errf("ERR Insufficient arguments, INPUTS and OUTPUTS not specified")
		}
		if !is(rest[0], "INPUTS") {
			return m, nil, errInputsNotSpecified
		}
		out := indexOf(rest[:end], "OUTPUTS", 1)
		switch {
		case out == 1:
			return m, nil, errInputsNotSpecified // no names: TF cannot run a graph without them
		case out < 0 || out == end-1:
			return m, nil, errf("ERR OUTPUTS not specified")
		}
		m.Inputs, m.Outputs = toStrings(rest[1:out]), toStrings(rest[out+1:end])
	}
	if blob < 0 || blob == len(rest)-1 {
		return m, nil, errMissingBlob
	}
	return m, rest[blob+1:], nil
}

func toStrings(b [][]byte) []string {
	out := make([]string, len(b))
	for i, s := range b {
		out[i] = string(s)
	}
	return out
}

// indexOf is the index of the first argument from start equal to word, or -1.
func indexOf(args [][]byte, word string, start int) int {
	for i := start; i < len(args); i++ {
		if is(args[i], word) {
			return i
		}
	}
	return -1
}

// ModelGet: AI.MODELGET key [META] [BLOB]
func ModelGet(env Env, args [][]byte) error {
	m, err := existingModel(env, args[1])
	if err != nil {
		return err
	}
	meta, blob := indexOf(args, "META", 2) >= 0, indexOf(args, "BLOB", 2) >= 0
	if !meta && !blob {
		meta, blob = true, true
	}
	out := env.Out
	if meta {
		n := 16
		if blob {
			n = 18
		}
		md := m.Meta()
		out.Array(n)
		out.Bulk("backend")
		out.Bulk(md.Backend)
		out.Bulk("device")
		out.Bulk(md.Device)
		out.Bulk("tag")
		out.BulkBytes(md.Tag)
		out.Bulk("batchsize")
		out.Int(md.BatchSize)
		out.Bulk("minbatchsize")
		out.Int(md.MinBatchSize)
		out.Bulk("inputs")
		replyStrings(out, md.Inputs)
		out.Bulk("outputs")
		replyStrings(out, md.Outputs)
		out.Bulk("minbatchtimeout")
		out.Int(md.MinBatchTimeout)
		if blob {
			out.Bulk("blob")
		}
	}
	if blob {
		replyChunks(out, m.Blob(), env.Runtime.Config().ModelChunkSize)
	}
	return nil
}

func replyStrings(out Reply, s []string) {
	out.Array(len(s))
	for _, v := range s {
		out.Bulk(v)
	}
}

// replyChunks sends b as one bulk string, or as an array of chunkSize pieces when it is at least
// that long (then, as RedisAI, len/chunkSize+1 pieces: an exact multiple ends with an empty one).
func replyChunks(out Reply, b []byte, chunkSize int64) {
	if int64(len(b)) < chunkSize {
		out.BulkBytes(b)
		return
	}
	n := int64(len(b))/chunkSize + 1
	out.Array(int(n))
	for i := int64(0); i < n; i++ {
		end := min((i+1)*chunkSize, int64(len(b)))
		out.BulkBytes(b[i*chunkSize : end])
	}
}

// existingModel is the model at key, or the error for an empty key or another type.
func existingModel(env Env, key []byte) (Model, error) {
	m, err := env.Keys.Model(key)
	if err == nil && m == nil {
		err = ErrModelEmpty
	}
	return m, err
}

// ModelDel: AI.MODELDEL key
func ModelDel(env Env, args [][]byte) error {
	if _, err := existingModel(env, args[1]); err != nil {
		return err
	}
	env.Keys.Delete(args[1])
	env.Keys.ReplicateVerbatim()
	env.Out.OK()
	return nil
}

// ModelExecute: AI.MODELEXECUTE key INPUTS n in... OUTPUTS m out... [TIMEOUT ms]
func ModelExecute(env Env, args [][]byte) error {
	call, err := parseModelExecute(env, args)
	if err != nil {
		return err
	}
	return runModel(env, call.model, call.inputs, call.outputs, call.timeout)
}

// modelCall is a parsed AI.MODELEXECUTE or AI.MODELRUN; the slices point into the arguments.
type modelCall struct {
	model           Model
	inputs, outputs [][]byte
	timeout         time.Duration
}

// parseModelExecute reads AI.MODELEXECUTE's arguments (args[0] is the command name), looking the
// model up first. The DAG's MODELEXECUTE ops share it.
func parseModelExecute(env Env, args [][]byte) (modelCall, error) {
	if len(args) < 8 {
		return modelCall{}, errModelExecuteArity
	}
	m, err := existingModel(env, args[1])
	if err != nil {
		return modelCall{}, err
	}
	nin, nout := m.Arity()
	if !is(args[2], "INPUTS") {
		return modelCall{}, errInputsNotSpecified
	}
	inputs, rest, err := executeKeys(args[3:], "input", "INPUTS", nin)
	if err != nil {
		return modelCall{}, err
	}
	if len(rest) == 0 || !is(rest[0], "OUTPUTS") {
		return modelCall{}, errf("ERR OUTPUTS not specified")
	}
	outputs, rest, err := executeKeys(rest[1:], "output", "OUTPUTS", nout)
	if err != nil {
		return modelCall{}, err
	}
	timeout, err := parseTimeout(rest)
	if err != nil {
		return modelCall{}, err
	}
	return modelCall{model: m, inputs: inputs, outputs: outputs, timeout: timeout}, nil
}

// runModel reads the input tensors and hands the run to the runtime, which replies when it is done.
func runModel(env Env, m Model, inputs, outputs [][]byte, timeout time.Duration) error {
	tensors, err := readInputs(env, inputs)
	if err != nil {
		return err
	}
	return execute(env, exec.Single(exec.Op{Kind: exec.ModelRun, Model: m}, tensors, outputs, timeout))
}

// executeKeys reads "n key..." for MODELEXECUTE's INPUTS or OUTPUTS, checking n against the model.
func executeKeys(args [][]byte, what, word string, want int) ([][]byte, [][]byte, error) {
	if len(args) == 0 {
		return nil, nil, errf("ERR Invalid argument for " + what + "_count")
	}
	n, ok := tensor.ParseInt(args[0])
	if !ok {
		return nil, nil, errf("ERR Invalid argument for " + what + "_count")
	}
	if n <= 0 {
		return nil, nil, errf("ERR " + strings.ToUpper(what[:1]) + what[1:] + " count must be a positive integer")
	}
	if n != int64(want) {
		return nil, nil, errf("Number of keys given as " + word + " here does not match model definition")
	}
	if int64(len(args)-1) < n {
		return nil, nil, errf("ERR number of " + what + " keys to AI.MODELEXECUTE command does not match the number of given arguments")
	}
	return args[1 : 1+n], args[1+n:], nil
}

// parseTimeout reads the optional "TIMEOUT ms" that ends an execution command.
func parseTimeout(args [][]byte) (time.Duration, error) {
	if len(args) == 0 {
		return 0, nil
	}
	if !is(args[0], "TIMEOUT") {
		return 0, errf("Invalid argument: " + string(args[0]))
	}
	if len(args) < 2 {
		return 0, errNoTimeoutValue
	}
	timeout, err := timeoutValue(args[1])
	if err != nil {
		return 0, err
	}
	if len(args) > 2 {
		return 0, errf("Invalid argument: " + string(args[2]))
	}
	return timeout, nil
}

// ModelExecuteKeys are the keys of AI.MODELEXECUTE: the model and INPUTS, read, and OUTPUTS,
// written.
func ModelExecuteKeys(args [][]byte) []KeyArg {
	if len(args) < 2 {
		return nil
	}
	keys := []KeyArg{{1, KeyRead}}
	i := 2
	for use, word := range []string{"INPUTS", "OUTPUTS"} {
		if i+1 >= len(args) || !is(args[i], word) {
			return keys
		}
		n, ok := tensor.ParseInt(args[i+1])
		if !ok || n < 0 || int64(len(args)-i-2) < n {
			return keys
		}
		for j := 0; j < int(n); j++ {
			keys = append(keys, KeyArg{i + 2 + j, KeyUse(use)}) // KeyRead, then KeyWrite
		}
		i += 2 + int(n)
	}
	return keys
}

// ModelRun: the deprecated AI.MODELRUN key [TIMEOUT ms] INPUTS in... OUTPUTS out..., run as
// AI.MODELEXECUTE.
func ModelRun(env Env, args [][]byte) error {
	call, err := parseModelRun(env, args)
	if err != nil {
		return err
	}
	return runModel(env, call.model, call.inputs, call.outputs, call.timeout)
}

// parseModelRun reads AI.MODELRUN's arguments (args[0] is the command name), looking the model up
// first. The DAGRUN's MODELRUN ops share it.
func parseModelRun(env Env, args [][]byte) (modelCall, error) {
	if len(args) < 6 {
		return modelCall{}, errModelRunArity
	}
	m, err := existingModel(env, args[1])
	if err != nil {
		return modelCall{}, err
	}
	rest := args[2:]
	var timeout time.Duration
	if is(rest[0], "TIMEOUT") {
		if timeout, err = parseTimeout(rest[:2]); err != nil {
			return modelCall{}, err
		}
		rest = rest[2:]
	}
	if len(rest) == 0 || !is(rest[0], "INPUTS") {
		return modelCall{}, errInputsNotSpecified
	}
	// Every name after INPUTS up to the first OUTPUTS is an input, the rest outputs.
	inputs, outputs := rest[1:], [][]byte(nil)
	if out := indexOf(rest, "OUTPUTS", 1); out >= 0 {
		inputs, outputs = rest[1:out], rest[out+1:]
	}
	nin, nout := m.Arity()
	if len(inputs) != nin {
		return modelCall{}, errf("Number of keys given as INPUTS here does not match model definition")
	}
	if len(outputs) != nout {
		return modelCall{}, errf("Number of keys given as OUTPUTS here does not match model definition")
	}
	return modelCall{model: m, inputs: inputs, outputs: outputs, timeout: timeout}, nil
}

// ModelRunKeys are the key positions of AI.MODELRUN: the model, every name between INPUTS and the
// first OUTPUTS after it (read), and every name after that OUTPUTS (written), as parseModelRun
// splits them: a later "OUTPUTS" is an output key like any other.
func ModelRunKeys(args [][]byte) []KeyArg {
	if len(args) < 2 {
		return nil
	}
	keys := []KeyArg{{1, KeyRead}}
	in := indexOf(args, "INPUTS", 2)
	if in < 0 {
		return keys
	}
	out := indexOf(args, "OUTPUTS", in+1)
	if out < 0 {
		out = len(args)
	}
	for i := in + 1; i < len(args); i++ {
		switch {
		case i < out:
			keys = append(keys, KeyArg{i, KeyRead})
		case i > out:
			keys = append(keys, KeyArg{i, KeyWrite})
		}
	}
	return keys
}

// ModelScan: AI._MODELSCAN lists [key, tag] of every model the stats know that the user may read.
func ModelScan(env Env, args [][]byte) error {
	return scan(env, args, false)
}

func scan(env Env, args [][]byte, scripts bool) error {
	var entries [][2]string
	for _, s := range env.Runtime.Stats().All() {
		if s.IsScript == scripts && env.Runtime.MayRead(s.Key) {
			entries = append(entries, [2]string{s.Key, s.Tag})
		}
	}
	env.Out.Array(len(entries))
	for _, e := range entries {
		env.Out.Array(2)
		env.Out.Bulk(e[0])
		env.Out.Bulk(e[1])
	}
	return nil
}

// Info: AI.INFO key [RESETSTAT | LATENCY]. The reply is RedisAI's, 18 elements; with LATENCY
// (a third argument RedisAI ignores) the run time's and queue wait's percentiles follow: clients
// that compare the reply with RedisAI's (redisai-py's own tests do) see no difference.
func Info(env Env, args [][]byte) error {
	entry := runInfoAt(env.Keys, args[1])
	if len(args) == 3 && is(args[2], "RESETSTAT") {
		if !env.Runtime.Stats().Reset(entry) {
			return errCannotFindRunInfo
		}
		env.Out.OK()
		return nil
	}
	s, ok := env.Runtime.Stats().Lookup(entry)
	if !ok {
		return errCannotFindRunInfo
	}
	s.Key = string(args[1]) // the key's name now: a RENAME takes the entry along
	typ, samples := "MODEL", s.Samples
	if s.IsScript {
		typ, samples = "SCRIPT", -1
	}
	latency := len(args) == 3 && is(args[2], "LATENCY")
	out := env.Out
	if latency {
		out.Array(18 + 2*percentileElems)
	} else {
		out.Array(18)
	}
	out.Bulk("key")
	out.Bulk(s.Key)
	out.Bulk("type")
	out.Bulk(typ)
	out.Bulk("backend")
	out.Bulk(s.Backend)
	out.Bulk("device")
	out.Bulk(s.Device)
	out.Bulk("tag")
	out.Bulk(s.Tag)
	out.Bulk("duration")
	out.Int(s.DurationUS)
	out.Bulk("samples")
	out.Int(samples)
	out.Bulk("calls")
	out.Int(s.Calls)
	out.Bulk("errors")
	out.Int(s.Errors)
	if latency {
		percentilePairs(out, "duration", s.RunTime)
		percentilePairs(out, "queue_wait", s.QueueWait)
	}
	return nil
}

// runInfoAt is the counters of the model or script at key in the client's database; nil where the
// key holds neither (their lookups' only error is ErrWrongType, the key's value of another type).
func runInfoAt(keys Keyspace, key []byte) *stats.Entry {
	if m, err := keys.Model(key); err == nil && m != nil {
		return m.Session().Stats
	}
	if sc, err := keys.Script(key); err == nil && sc != nil {
		return sc.Session().Stats
	}
	return nil
}

// percentileElems is the number of elements percentilePairs writes.
const percentileElems = 6

// percentilePairs writes name_p50, name_p99 and name_p999 with their values in microseconds.
func percentilePairs(out Reply, name string, p stats.Percentiles) {
	out.Bulk(name + "_p50")
	out.Int(p.P50)
	out.Bulk(name + "_p99")
	out.Int(p.P99)
	out.Bulk(name + "_p999")
	out.Int(p.P999)
}
