"""Makes the TF fixtures of test_smartredis_tf.py and backends/tf: the Keras
model of SmartSim's tests/backends/run_tf.py (Sequential: InputLayer (28,28) ->
Flatten -> Dense(128, relu) -> Dense(10, softmax)), with weights from a fixed
seed, frozen the way SmartSim's smartsim.ml.tf.freeze_model does it (a
concrete function of the model, convert_variables_to_constants_v2, a binary
TF1-style GraphDef, input and output names without ":0"). It writes, under
models/:

  keras_fcn.pb             the frozen graph, as set_model_from_file reads it
  keras_fcn.json           its input and output names, and the TF version
  keras_fcn_input.npy      a float32 input of shape (1, 28, 28) (rand)
  keras_fcn_output.npy     Keras' prediction for it, float32 (1, 10)
  keras_fcn_input_5.npy    a batch of 5 inputs, and
  keras_fcn_output_5.npy   Keras' prediction for it

It needs TensorFlow. Run with a python3 that has none, it makes a throwaway
virtual environment under /tmp, installs tensorflow-cpu there (the version
build/fetch-tensorflow.sh fetches for the server) and runs itself in it:

  python3 tests/python/make_keras_model.py
"""

import json
import os
import subprocess
import sys
from pathlib import Path

TF_VERSION = "2.20.0"  # as in build/fetch-tensorflow.sh
VENV = Path("/tmp/gorai-make-keras-model-venv")
MODELS = Path(__file__).resolve().parent / "models"
SEED = 1234


def _reexec_in_venv():
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"making {VENV} with tensorflow-cpu=={TF_VERSION}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
        subprocess.check_call(
            [str(py), "-m", "pip", "install", "-q", f"tensorflow-cpu=={TF_VERSION}"]
        )
    os.execv(str(py), [str(py), __file__] + sys.argv[1:])


try:
    import tensorflow as tf  # noqa: E402
except ImportError:
    if os.environ.get("GORAI_IN_VENV"):
        raise
    os.environ["GORAI_IN_VENV"] = "1"
    _reexec_in_venv()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from tensorflow.python.framework.convert_to_constants import (  # noqa: E402
    convert_variables_to_constants_v2,
)


def create_tf_fcn():
    """SmartSim's create_tf_cnn (tests/backends/run_tf.py), in Keras 3 terms."""
    model = keras.Sequential(
        layers=[
            keras.layers.InputLayer(shape=(28, 28), name="input"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(128, activation="relu", name="dense"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ],
        name="FCN",
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def freeze_model(model, output_dir, file_name):
    """smartsim.ml.tf.freeze_model, as it is."""
    if not file_name.endswith(".pb"):
        file_name = file_name + ".pb"
    full_model = tf.function(lambda x: model(x))
    full_model = full_model.get_concrete_function(
        tf.TensorSpec(model.inputs[0].shape, model.inputs[0].dtype)
    )
    frozen_func = convert_variables_to_constants_v2(full_model)
    frozen_func.graph.as_graph_def()
    input_names = [x.name.split(":")[0] for x in frozen_func.inputs]
    output_names = [x.name.split(":")[0] for x in frozen_func.outputs]
    tf.io.write_graph(
        graph_or_graph_def=frozen_func.graph,
        logdir=str(output_dir),
        name=file_name,
        as_text=False,
    )
    return str(Path(output_dir, file_name).resolve()), input_names, output_names, frozen_func


def main():
    keras.utils.set_random_seed(SEED)
    model = create_tf_fcn()
    MODELS.mkdir(exist_ok=True)
    path, inputs, outputs, frozen = freeze_model(model, MODELS, "keras_fcn.pb")

    rng = np.random.default_rng(SEED)
    meta = {"inputs": inputs, "outputs": outputs, "tensorflow": tf.__version__}
    for suffix, n in (("", 1), ("_5", 5)):
        x = rng.random((n, 28, 28), dtype=np.float32)
        want = model.predict(x, verbose=0).astype(np.float32)
        # The frozen graph computes what Keras does.
        got = frozen(tf.constant(x))[0].numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert want.shape == (n, 10)
        np.save(MODELS / f"keras_fcn_input{suffix}.npy", x)
        np.save(MODELS / f"keras_fcn_output{suffix}.npy", want)
    (MODELS / "keras_fcn.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {path}: inputs {inputs}, outputs {outputs}")


if __name__ == "__main__":
    main()
