"""Makes fill.pb, a frozen TF graph whose memory its input decides (run once; the result is committed).

  build/venv-examples/bin/python backends/tf/testdata/make_fill.py   (tensorflow-cpu 2.20; `make examples` makes it)

fill.pb  d: INT32 [n], the shape -> y = Fill(d, 1.0) FLOAT of that shape, s = Sum(y) FLOAT scalar: a 451-byte graph
         that asks TensorFlow for 4 bytes times the product of d.
"""
import os

import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))

g = tf.Graph()
with g.as_default():
    d = tf.compat.v1.placeholder(tf.int32, [None], name="d")
    y = tf.fill(d, 1.0, name="y")
    tf.identity(tf.reduce_sum(y), name="s")
with open(os.path.join(here, "fill.pb"), "wb") as f:
    f.write(g.as_graph_def().SerializeToString())
