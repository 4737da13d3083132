package commands

import "bytes"

// storeBuilt builds a model or script away from Redis' main thread (a large model, or the first
// load of a backend, takes seconds that every other client would wait), then, on the main thread,
// stores it with store, replicates the command and replies OK. As RedisAI, the key's type is
// checked after the build.
func storeBuilt[T interface{ Close() }](env Env, key []byte, build func(Builder) (T, error), store func(keys Keyspace, key []byte, built T) error) error {
	key = bytes.Clone(key) // the build may outlive the command's arguments
	return env.AI.Offload(env, func(b Builder) Built {
		built, err := build(b)
		return Built{
			Commit: func(env Env) error {
				if err != nil {
					return err
				}
				if err := store(env.Keys, key, built); err != nil {
					built.Close()
					return err
				}
				env.Keys.ReplicateVerbatim()
				env.Out.OK()
				return nil
			},
			Drop: func() {
				if err == nil {
					built.Close()
				}
			},
		}
	})
}
