package commands

import (
	"math"
	"strings"
)

// Command is one AI.* command: what Redis is told of it when the module registers it, how many
// arguments it takes, and its handler. The module registers every entry of Commands and runs each
// call through Run.
type Command struct {
	// Name is lower-case, as RedisAI registers it (Redis 7 names the registered command in its
	// wrong-arity error).
	Name string
	// Flags are Redis' command flags.
	Flags string
	// Arity counts the arguments, the command's name included, in Redis' convention: N, exactly N;
	// -N, at least N. MaxArgs, when not 0, is the most a command of arity -N takes. Run checks
	// them before the handler runs: handlers do not count their arguments again, only the counts
	// their grammar needs (after INPUTS, say). They are not given to Redis (RM_SetCommandInfo's
	// arity): COMMAND INFO reports -1 for every AI.* command, as for RedisAI's; and Redis would
	// check them itself, with another text in a script ("Wrong number of args calling Redis
	// command from script") and at another time in MULTI (the transaction aborted at EXEC,
	// instead of the error replied inside it).
	Arity, MaxArgs int
	// ArityErr is the reply to a wrong count: nil, Redis' own (ErrWrongArity); otherwise RedisAI's
	// own text for the command.
	ArityErr error
	// Executes: the command runs a model, a script or a DAG, and asks Runtime.CanExecute before
	// anything else, its arguments' count included (as RedisAI, inside MULTI or a script every
	// execution command is refused the same way).
	Executes bool
	// FirstKey, LastKey and KeyStep are the key positions Redis is given when the command is
	// created. Where they cannot say where the keys are, Keys reports them (a "getkeys-api"
	// command), at RedisAI's positions.
	FirstKey, LastKey, KeyStep int
	Keys                       func(args [][]byte) []KeyArg
	// Use is what a command whose one key is args[1] (FirstKey 1, no Keys) does with it, for its
	// key spec: without one, Redis takes the key as read and written, and a read-only user could
	// not read it. Ignored for the other commands.
	Use KeyUse
	// InC: the module runs the command in C, without entering Go (module/tensor_commands.c, the
	// data plane; its grammar is tensor/parse.c, which Go's DAG parser calls too). It has no
	// Handler; the module gives it Arity and MaxArgs to check.
	InC     bool
	Handler Handler
}

// Commands lists every command gorai registers. An entry's index is its slot in the module's C
// trampolines: new commands go at the end.
var Commands = []Command{
	{Name: "ai.tensorset", Flags: "write deny-oom", Arity: -4, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyWrite, InC: true},
	{Name: "ai.tensorget", Flags: "readonly", Arity: -2, MaxArgs: 4, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyRead, InC: true},
	{Name: "ai.modelstore", Flags: "write deny-oom", Arity: -6, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyWrite, Handler: ModelStore},
	{Name: "ai.modelset", Flags: "write deny-oom", Arity: -4, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyWrite, Handler: ModelSet},
	{Name: "ai.modelget", Flags: "readonly", Arity: -2, MaxArgs: 4, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyRead, Handler: ModelGet},
	{Name: "ai.modeldel", Flags: "write", Arity: 2, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyDelete, Handler: ModelDel},
	// AI.MODELEXECUTE's and AI.MODELRUN's counts (8 and 6 at least) are checked by their parsers,
	// which a DAG's ops share.
	{Name: "ai.modelexecute", Flags: "write deny-oom getkeys-api", Arity: -1, Executes: true, FirstKey: 4, LastKey: 4, KeyStep: 1, Keys: ModelExecuteKeys, Handler: ModelExecute},
	{Name: "ai.modelrun", Flags: "write deny-oom getkeys-api", Arity: -1, Executes: true, FirstKey: 3, LastKey: 3, KeyStep: 1, Keys: ModelRunKeys, Handler: ModelRun},
	{Name: "ai._modelscan", Flags: "readonly", Arity: 1, Handler: ModelScan},
	{Name: "ai.scriptstore", Flags: "write deny-oom", Arity: -8, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyWrite, Handler: ScriptStore},
	// AI.SCRIPTSET takes 5 or 7 arguments: its handler refuses 6.
	{Name: "ai.scriptset", Flags: "write deny-oom", Arity: -5, MaxArgs: 7, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyWrite, Handler: ScriptSet},
	{Name: "ai.scriptget", Flags: "readonly", Arity: -2, MaxArgs: 4, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyRead, Handler: ScriptGet},
	{Name: "ai.scriptdel", Flags: "write", Arity: 2, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyDelete, Handler: ScriptDel},
	{Name: "ai.scriptexecute", Flags: "write deny-oom getkeys-api", Arity: -3, ArityErr: errScriptExecuteArity, Executes: true, FirstKey: 5, LastKey: 5, KeyStep: 1, Keys: ScriptExecuteKeys, Handler: ScriptExecute},
	{Name: "ai.scriptrun", Flags: "write deny-oom getkeys-api", Arity: -3, ArityErr: errScriptRunArity, Executes: true, FirstKey: 4, LastKey: 4, KeyStep: 1, Keys: ScriptRunKeys, Handler: ScriptRun},
	{Name: "ai._scriptscan", Flags: "readonly", Arity: 1, Handler: ScriptScan},
	{Name: "ai.dagexecute", Flags: "write deny-oom getkeys-api", Arity: -6, ArityErr: errDAGMissingArgs(dagExecute), Executes: true, FirstKey: 3, LastKey: 3, KeyStep: 1, Keys: DAGKeys, Handler: DAGExecute},
	{Name: "ai.dagexecute_ro", Flags: "readonly getkeys-api", Arity: -6, ArityErr: errDAGMissingArgs(dagExecuteRO), Executes: true, FirstKey: 3, LastKey: 3, KeyStep: 1, Keys: DAGKeys, Handler: DAGExecuteRO},
	{Name: "ai.dagrun", Flags: "write deny-oom getkeys-api", Arity: -4, ArityErr: errDAGArity(dagRun), Executes: true, FirstKey: 3, LastKey: 3, KeyStep: 1, Keys: DAGKeys, Handler: DAGRun},
	{Name: "ai.dagrun_ro", Flags: "readonly getkeys-api", Arity: -4, ArityErr: errDAGArity(dagRunRO), Executes: true, FirstKey: 3, LastKey: 3, KeyStep: 1, Keys: DAGKeys, Handler: DAGRunRO},
	{Name: "ai.info", Flags: "readonly", Arity: -2, MaxArgs: 3, FirstKey: 1, LastKey: 1, KeyStep: 1, Use: KeyRead, Handler: Info},
	// AI.CONFIG's subcommands count their own arguments.
	{Name: "ai.config", Flags: "write", Arity: -2, Handler: ConfigCommand},
}

// Lookup is the command named name (in any case), or nil.
func Lookup(name string) *Command {
	for i := range Commands {
		if strings.EqualFold(Commands[i].Name, name) {
			return &Commands[i]
		}
	}
	return nil
}

// ArgCounts is the range of argument counts the command takes, its name included: Arity and
// MaxArgs as a range, whose upper end is math.MaxInt32 when there is none.
func (c *Command) ArgCounts() (lo, hi int) {
	switch {
	case c.Arity >= 0:
		return c.Arity, c.Arity
	case c.MaxArgs == 0:
		return -c.Arity, math.MaxInt32
	default:
		return -c.Arity, c.MaxArgs
	}
}

// ArityOK is whether the command takes n arguments, its name included.
func (c *Command) ArityOK(n int) bool {
	lo, hi := c.ArgCounts()
	return n >= lo && n <= hi
}

// Run runs the command with args (args[0] is its name, as sent): the transaction check of an
// execution command, then the count of its arguments, then its handler.
func (c *Command) Run(env Env, args [][]byte) error {
	if c.Executes {
		if err := env.Runtime.CanExecute(); err != nil {
			return err
		}
	}
	if !c.ArityOK(len(args)) {
		if c.ArityErr != nil {
			return c.ArityErr
		}
		return ErrWrongArity
	}
	return c.Handler(env, args)
}
