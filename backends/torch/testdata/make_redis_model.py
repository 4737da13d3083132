#!/usr/bin/python3
"""Makes torch2/calls_redis.pt: a TorchScript model whose forward calls redis.execute, the Redis extension's
op that gorai's scripts call, and torch2/runs_itself.pt, whose forward runs the model at key "itself" with
redisAI.model_execute. Torch has no such ops, so they are declared here as the shim declares them
(torch_shim.cpp's registerRedisOps) for the scripting to resolve; their Python bodies never run.

    python3 backends/torch/testdata/make_redis_model.py   (torch 2.15, the wheel build/fetch-torch.sh pins)
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

lib = torch.library.Library("redis", "DEF")
lib.define("execute(str cmd, str[] args) -> Any")
lib.impl("execute", lambda cmd, args: None, "CompositeExplicitAutograd")
ai = torch.library.Library("redisAI", "DEF")
ai.define("model_execute(str model_key, Tensor[] inputs, int num_outputs) -> Tensor[]")
ai.impl("model_execute", lambda key, inputs, n: inputs[:n], "CompositeExplicitAutograd")


class CallsRedis(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The reply is used: an unused call of an op without side effects declared is compiled away.
        reply = torch.ops.redis.execute("SET", ["set_by_a_model", "1"])
        return x + len(str(reply))


class RunsItself(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.redisAI.model_execute("itself", [x], 1)[0]


torch.jit.script(CallsRedis()).save(os.path.join(HERE, "torch2", "calls_redis.pt"))
torch.jit.script(RunsItself()).save(os.path.join(HERE, "torch2", "runs_itself.pt"))
