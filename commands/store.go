package commands

import "bytes"

// storeBuilt builds a model or script away from Redis' main thread (a large model, or the first
// load of a backend, takes seconds that every other client would wait), then, on the main thread,
// stores it with store, replicates the command and replies OK. As RedisAI, the key's type is
// checked after the build. unstored (if not nil) releases what store would have taken over, when
// nothing is stored.
func storeBuilt[T interface{ Close() }](env Env, key []byte, build func(Builder) (T, error), store func(keys Keyspace, key []byte, built T) error, unstored func()) error {
	key = bytes.Clone(key) // the build may outlive the command's arguments
	// drop releases a build that is not stored: the built value if the build succeeded.
	drop := func(built T, buildErr error) {
		if buildErr == nil {
			built.Close()
		}
		if unstored != nil {
			unstored()
		}
	}
	return env.Runtime.Offload(env, func(b Builder) Built {
		built, err := build(b)
		return Built{
			Commit: func(env Env) error {
				if err != nil {
					drop(built, err)
					return err
				}
				if err := store(env.Keys, key, built); err != nil {
					drop(built, nil)
					return err
				}
				env.Keys.ReplicateVerbatim()
				env.Out.OK()
				return nil
			},
			Drop: func() { drop(built, err) },
		}
	})
}
