"""Makes the TFLITE models whose memory grows with their input (run once; the results are committed).

  /tmp/tf/bin/python backends/tflite/testdata/make_tiles.py   (the venv of make_models.py, or build/venv-examples, which `make examples` makes)

tile.tflite      float32 x [1,10] -> tile(x, [1000, 1000]) [1000,10000]: its output is a million times its input.
tile_sum.tflite  float32 x [1,10] -> reduce_sum(tile(x, [1000, 1000])) [1]: the same tile inside, a small output.
"""
import os

import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))
spec = [tf.TensorSpec([1, 10], tf.float32, name="x")]


@tf.function(input_signature=spec)
def tile(x):
    return tf.tile(x, [1000, 1000])


@tf.function(input_signature=spec)
def tile_sum(x):
    return tf.reshape(tf.reduce_sum(tf.tile(x, [1000, 1000])), [1])


def main():
    for name, f in (("tile.tflite", tile), ("tile_sum.tflite", tile_sum)):
        conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
        with open(os.path.join(here, name), "wb") as out:
            out.write(conv.convert())


if __name__ == "__main__":
    main()
