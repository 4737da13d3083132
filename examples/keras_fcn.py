"""Online inference with a Keras network frozen by SmartSim's freeze_model
(the chapter's TensorFlow example, with smartsim.ml.tf, SmartSim 0.8's name
for smartsim.tf).

A small fully connected network (28x28 input, one hidden layer, softmax over
10 classes) is frozen to a graph file, stored with set_model_from_file(...,
"TF", inputs=..., outputs=...) using the node names freeze_model returns, run
in the Orchestrator on 5 random images, and compared with Keras' own
prediction. Launched by run_all.py as a SmartSim Model.
"""

import tempfile

import numpy as np
from smartredis import Client
from smartsim.ml.tf import freeze_model
from tensorflow import keras


def fcn():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28), name="image"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(128, activation="relu", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="fcn",
    )


def main():
    keras.utils.set_random_seed(0)
    model = fcn()
    path, inputs, outputs = freeze_model(model, tempfile.mkdtemp(), "fcn.pb")

    client = Client(cluster=False)
    client.set_model_from_file("fcn", path, "TF", device="CPU", inputs=inputs, outputs=outputs)
    images = np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
    client.put_tensor("images", images)
    client.run_model("fcn", "images", "probabilities")
    got = client.get_tensor("probabilities")

    want = model.predict(images, verbose=0)
    assert got.shape == (5, 10), got.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    print(f"keras_fcn: frozen graph {inputs} -> {outputs}; 5 x 10 probabilities match Keras (max diff {np.abs(got - want).max():.2e})")


if __name__ == "__main__":
    main()
