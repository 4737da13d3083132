"""Makes the TFLITE models that divide integers (run once; the results are committed).

  /tmp/tf/bin/python backends/tflite/testdata/make_division.py   (the venv of make_models.py)

floordiv.tflite  int32 a [?,3], b [?,3] -> tf.math.floordiv(a, b) [?,3], a dynamic batch dimension (the
                 flatbuffer says [1,3]). A run on zeros divides by zero, which LiteRT's kernel refuses: the
                 store's trial must not take that for damage.
"""
import os

import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))
spec = [tf.TensorSpec([None, 3], tf.int32, name="a"), tf.TensorSpec([None, 3], tf.int32, name="b")]


@tf.function(input_signature=spec)
def floordiv(a, b):
    return tf.math.floordiv(a, b)


def main():
    conv = tf.lite.TFLiteConverter.from_concrete_functions([floordiv.get_concrete_function()], floordiv)
    with open(os.path.join(here, "floordiv.tflite"), "wb") as out:
        out.write(conv.convert())


if __name__ == "__main__":
    main()
