#!/usr/bin/python3
"""Makes torch2/calls_redis.pt: a TorchScript model whose forward calls redis.execute, the Redis extension's
op that gorai's scripts call. Torch has no such op, so it is declared here as the shim declares it
(torch_shim.cpp's registerRedisOps) for the scripting to resolve; its Python body never runs.

    python3 backends/torch/testdata/make_redis_model.py   (torch 2.15, the wheel build/fetch-torch.sh pins)
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

lib = torch.library.Library("redis", "DEF")
lib.define("execute(str cmd, str[] args) -> Any")
lib.impl("execute", lambda cmd, args: None, "CompositeExplicitAutograd")


class CallsRedis(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The reply is used: an unused call of an op without side effects declared is compiled away.
        reply = torch.ops.redis.execute("SET", ["set_by_a_model", "1"])
        return x + len(str(reply))


torch.jit.script(CallsRedis()).save(os.path.join(HERE, "torch2", "calls_redis.pt"))
