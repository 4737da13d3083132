package commands

import (
	"strings"
	"sync"
)

// RedisArities caches the arity of Redis' own commands, as COMMAND INFO gives them (they do not
// change), for the checks of scripts' calls into Redis: a call Redis will refuse for its name or
// arity is let through to Redis' own refusal. Entries are kept by lower-case name and by the
// spelling scripts use (no lower-casing on the hot path); a container's subcommands as "name|sub".
// It is safe for concurrent use.
type RedisArities struct {
	mu sync.Mutex
	m  map[string]redisArity
}

type redisArity struct {
	arity     int64
	container bool
}

// Accepts is whether Redis knows args[0] (and its subcommand) and would take len(args) arguments.
// commandInfo is COMMAND INFO name's reply, as nested []any, string and int64 values; it is asked
// once per command.
func (c *RedisArities) Accepts(args []string, commandInfo func(name string) any) bool {
	if len(args) == 0 || args[0] == "" {
		return false
	}
	a, ok := c.lookup(args[0], commandInfo)
	if ok && a.container && len(args) > 1 {
		a, ok = c.lookup(args[0]+"|"+args[1], commandInfo)
	}
	n := int64(len(args))
	return ok && (a.arity > 0 && n == a.arity || a.arity < 0 && n >= -a.arity)
}

func (c *RedisArities) lookup(spelled string, commandInfo func(name string) any) (redisArity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]redisArity{}
	}
	if a, ok := c.m[spelled]; ok {
		return a, true
	}
	name := strings.ToLower(spelled)
	a, ok := c.m[name]
	if !ok {
		base, _, _ := strings.Cut(name, "|")
		c.learn(base, commandInfo(base))
		a, ok = c.m[name]
	}
	if ok {
		c.m[spelled] = a
	}
	return a, ok
}

// learn keeps the arities in COMMAND INFO's reply: the command's, and its subcommands' (field 9).
func (c *RedisArities) learn(name string, reply any) {
	infos, _ := reply.([]any)
	if len(infos) != 1 {
		return
	}
	info, _ := infos[0].([]any) // nil for an unknown command
	if len(info) < 2 {
		return
	}
	arity, _ := info[1].(int64)
	var subs []any
	if len(info) > 9 {
		subs, _ = info[9].([]any)
	}
	c.m[name] = redisArity{arity: arity, container: len(subs) > 0}
	for _, s := range subs {
		if sub, _ := s.([]any); len(sub) >= 2 {
			subName, _ := sub[0].(string)
			subArity, _ := sub[1].(int64)
			c.m[strings.ToLower(subName)] = redisArity{arity: subArity}
		}
	}
}
