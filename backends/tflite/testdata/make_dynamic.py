"""Makes the TFLITE models whose outputs LiteRT sizes only as they run, and adds their cases to expected.json
(run once; the results are committed).

  /tmp/tf/bin/python backends/tflite/testdata/make_dynamic.py   (the venv of make_models.py; the committed files
  were made with tensorflow-cpu 2.21.0)

flatten.tflite      float32 x [?,4,4,2] -> softmax(dense(flatten(conv2d(x)))) [?,5], Keras: Flatten's Reshape
                    takes its shape from the batch at run time, so LiteRT knows the output's shape only after the
                    run. Cases at batches 3, 7 and 2, run in that order on one model.
passthrough.tflite  float32 a [1,4] -> dbl = a * 2 and same = identity(a): the converter makes the output `same` the
                    input tensor itself.
twice.tflite        float32 a [2,3] -> (y, y), y = relu(a), no signature: one tensor is both outputs.
"""
import json
import os

import numpy as np
import tensorflow as tf

from make_models import describe

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)


def flatten_model():
    m = tf.keras.Sequential([tf.keras.Input((4, 4, 2)), tf.keras.layers.Conv2D(3, 3, activation="relu"),
                             tf.keras.layers.Flatten(), tf.keras.layers.Dense(5), tf.keras.layers.Softmax()])
    m.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in m.get_weights()])
    return tf.lite.TFLiteConverter.from_keras_model(m).convert()


class Passthrough(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="a")])
    def f(self, a):
        return {"dbl": a * 2.0, "same": tf.identity(a)}


def passthrough_model():
    m = Passthrough()
    return tf.lite.TFLiteConverter.from_concrete_functions([m.f.get_concrete_function()], m).convert()


def twice_model():
    def f(a):
        y = tf.nn.relu(a)
        return y, y
    fn = tf.function(f, input_signature=[tf.TensorSpec([2, 3], tf.float32)])
    return tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn).convert()


def main():
    flatten, passthrough, twice = flatten_model(), passthrough_model(), twice_model()
    for name, blob in (("flatten.tflite", flatten), ("passthrough.tflite", passthrough), ("twice.tflite", twice)):
        with open(os.path.join(here, name), "wb") as f:
            f.write(blob)
    path = os.path.join(here, "expected.json")
    with open(path) as f:
        expected = json.load(f)
    expected["flatten.tflite"] = describe(flatten, [[rng.uniform(0, 1, (n, 4, 4, 2)).astype(np.float32)] for n in (3, 7, 2)])
    expected["passthrough.tflite"] = describe(passthrough, [[rng.uniform(-2, 2, (1, 4)).astype(np.float32)] for _ in range(2)])
    expected["twice.tflite"] = describe(twice, [[rng.uniform(-1, 1, (2, 3)).astype(np.float32)]])
    with open(path, "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
