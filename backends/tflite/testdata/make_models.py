"""Makes the TFLITE test models and their expected outputs (run once; the results are committed).

  python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu==2.20.0   (made the committed files; a venv,
  since TensorFlow wants numpy 2 and the client tests' smartredis numpy < 2)
  /tmp/tf/bin/python backends/tflite/testdata/make_models.py

dense.tflite      float32: inputs a [?,2] and b [?,3], outputs y = dense(relu(dense(concat(a, b)))) [?,4] and
                  s = a[:,:1] + b[:,:1] [?,1], with a dynamic batch dimension (the flatbuffer says [1,2] and [1,3]);
                  the converter orders them b, a and s, y, unlike the Keras model.
quantized.tflite  full-integer (uint8 in, uint8 out) quantization of a small dense net, input [1,4], output [1,3].
expected.json     per model: input and output tensor names in the interpreter's order, and cases (inputs -> outputs)
                  computed by TensorFlow Lite's own interpreter, so the Go tests compare LiteRT's C API against it.
"""
import json
import os

import numpy as np
import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def dense_model():
    a = tf.keras.Input(shape=(2,), name="a")
    b = tf.keras.Input(shape=(3,), name="b")
    x = tf.keras.layers.Concatenate()([a, b])
    h = tf.keras.layers.Dense(5, activation="relu")(x)
    y = tf.keras.layers.Dense(4, name="y")(h)
    s = tf.keras.layers.Add(name="s")([a[:, :1], b[:, :1]])
    m = tf.keras.Model([a, b], [y, s])
    m.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in m.get_weights()])
    return tf.lite.TFLiteConverter.from_keras_model(m).convert()


def quantized_model():
    x = tf.keras.Input(shape=(4,), batch_size=1, name="x")
    h = tf.keras.layers.Dense(6, activation="relu")(x)
    y = tf.keras.layers.Dense(3)(h)
    m = tf.keras.Model(x, y)
    m.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in m.get_weights()])
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 4)).astype(np.float32)] for _ in range(100))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.uint8
    conv.inference_output_type = tf.uint8
    return conv.convert()


def run(blob, inputs):
    """Runs the interpreter on inputs (in its input order), resizing for the batch as RedisAI did."""
    it = tf.lite.Interpreter(model_content=blob)
    for d, v in zip(it.get_input_details(), inputs):
        it.resize_tensor_input(d["index"], v.shape)
    it.allocate_tensors()
    for d, v in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], v)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def describe(blob, cases):
    it = tf.lite.Interpreter(model_content=blob)
    ins, outs = it.get_input_details(), it.get_output_details()

    def tensor(v):
        return {"dtype": v.dtype.name, "shape": list(v.shape), "values": v.flatten().tolist()}

    return {
        "inputs": [d["name"] for d in ins],
        "outputs": [d["name"] for d in outs],
        "cases": [{"inputs": [tensor(v) for v in c], "outputs": [tensor(v) for v in run(blob, c)]} for c in cases],
    }


def main():
    dense, quant = dense_model(), quantized_model()
    for name, blob in (("dense.tflite", dense), ("quantized.tflite", quant)):
        with open(os.path.join(here, name), "wb") as f:
            f.write(blob)
    it = tf.lite.Interpreter(model_content=dense)
    order = {d["name"]: d for d in it.get_input_details()}
    widths = [order[n]["shape"][1] for n in order]

    def dense_case(batch):
        return [rng.uniform(-2, 2, (batch, w)).astype(np.float32) for w in widths]

    expected = {
        "dense.tflite": describe(dense, [dense_case(1), dense_case(3)]),
        "quantized.tflite": describe(quant, [[rng.integers(0, 256, (1, 4), dtype=np.uint8)] for _ in range(2)]),
    }
    with open(os.path.join(here, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
