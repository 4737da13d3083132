package commands

import (
	"slices"
	"testing"
)

// commandInfo answers COMMAND INFO as Redis 7 does for a few commands, counting the questions.
type commandInfo struct{ asked []string }

func (c *commandInfo) reply(name string) any {
	c.asked = append(c.asked, name)
	info := map[string][]any{
		"get": {"get", int64(2)},
		"set": {"set", int64(-3)},
		"config": {"config", int64(-2), nil, nil, nil, nil, nil, nil, nil, []any{
			[]any{"config|set", int64(-4)}, []any{"config|get", int64(-3)}}},
	}[name]
	if info == nil {
		return []any{nil} // an unknown command
	}
	return []any{info}
}

func TestRedisArities(t *testing.T) {
	var c RedisArities
	var info commandInfo
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"GET", "k"}, true},
		{[]string{"get", "k", "x"}, false},
		{[]string{"SET", "k"}, false},
		{[]string{"set", "k", "v", "EX", "1"}, true},
		{[]string{"CONFIG", "SET", "a", "b"}, true},
		{[]string{"config", "set", "a"}, false},
		{[]string{"config", "nosuch"}, false},
		{[]string{"nosuch"}, false},
		{[]string{""}, false},
		{[]string{"Get", "k"}, true},
	} {
		if got := c.Accepts(tc.args, info.reply); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.args, got, tc.want)
		}
	}
	// Each command is asked by its lower-case name, once when Redis knows it (other spellings come
	// from the cache); what Redis does not know is asked again.
	if want := []string{"get", "set", "config", "config", "nosuch"}; !slices.Equal(info.asked, want) {
		t.Errorf("asked %q, want %q", info.asked, want)
	}
}
