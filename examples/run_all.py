"""Runs the examples as the chapter's infrastructure code does: a SmartSim
Experiment starts an Orchestrator (redis-server with gorai.so as RAI_PATH),
then launches each example script as a Model, which reaches the database
through the SSDB variable SmartSim sets. Each script checks the database's
results against the same model run in its own process and fails if they
differ.

    RAI_PATH=build/gorai.so python3 examples/run_all.py [example ...]

(`make examples` does this.) SmartSim must be set up for gorai first:
docs/smartsim.md. Exits non-zero if any example failed.
"""

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from smartsim import Experiment
from smartsim.status import SmartSimStatus

HERE = Path(__file__).resolve().parent
# An example is one script, or a producer and a consumer of what it puts (the chapter's online
# training: the producer's keys prefixed with its name, the consumer told to read them).
EXAMPLES = {
    "torch_cnn": ["torch_cnn"],
    "sklearn_onnx": ["sklearn_onnx"],
    "keras_fcn": ["keras_fcn"],
    "online_training": ["online_producer", "online_trainer"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_setup():
    """SmartSim's own errors for a missing setup are a bare StopIteration or a wrong program started."""
    import smartsim

    bin_dir = Path(smartsim.__file__).parent / "_core" / "bin"
    if not (bin_dir / "redis-server").is_file() or "RAI_PATH" not in os.environ:
        sys.exit(f"set RAI_PATH to gorai.so and put a redis-server in {bin_dir}: see docs/smartsim.md")


def run(exp, name, scripts):
    models = []
    for script in scripts:
        settings = exp.create_run_settings(exe=sys.executable, exe_args=str(HERE / f"{script}.py"))
        model = exp.create_model(script, settings)
        exp.generate(model, overwrite=True)
        models.append(model)
    if len(models) == 2:
        models[0].enable_key_prefixing()
        models[1].register_incoming_entity(models[0])
    start = time.time()
    for model in models[:-1]:
        exp.start(model, block=False, summary=False)
    exp.start(models[-1], block=True, summary=False)
    while not all(exp.finished(m) for m in models):
        time.sleep(0.2)
    ok = all(s == SmartSimStatus.STATUS_COMPLETED for s in exp.get_status(*models))
    out = "".join(Path(m.path, f"{m.name}.{ext}").read_text() for m in models for ext in ("out", "err"))
    print(f"--- {name}: {'passed' if ok else 'FAILED'} in {time.time() - start:.1f} s\n{out.strip()}", flush=True)
    return ok


def main():
    check_setup()
    names = sys.argv[1:] or EXAMPLES
    exp = Experiment("gorai-examples", exp_path=tempfile.mkdtemp(prefix="gorai-examples-"), launcher="local")
    # The telemetry monitor holds the exit for its 90 s cool-down.
    exp.telemetry.disable()
    db = exp.create_database(port=free_port(), interface="lo")
    exp.generate(db)
    exp.start(db)
    try:
        failed = [name for name in names if not run(exp, name, EXAMPLES[name])]
    finally:
        exp.stop(db)
    if failed:
        sys.exit(f"failed: {', '.join(failed)} (the Orchestrator's output is under {exp.exp_path})")


if __name__ == "__main__":
    main()
